import { describe, expect, it } from 'vitest';
import type { Check, CheckOutput } from '../../src/checks/check.ts';
import { checkOrder, exitCodeOf, runChecks, statusOf } from '../../src/checks/run-checks.ts';
import { findingsJson, findingsTable } from '../../src/cli/findings-table.ts';
import { GLYPHS } from '../../src/cli/output.ts';

type Ctx = { label: string };
const check = (id: string, run: Check<Ctx>['run'], extra: Partial<Check<Ctx>> = {}): Check<Ctx> => ({
  id, category: 'network', title: `title of ${id}`, severity: 'error', disruptive: false, scope: 'cluster', hint: `fix ${id}`, docs: `#check-${id}`, run, ...extra,
});
const clean = async (): Promise<CheckOutput> => ({ findings: [] });
const two = [{ name: 'us', reachable: true }, { name: 'eu', reachable: true }];

describe('running checks', () => {
  it('a cluster check runs once per cluster, a mesh check once; the finding gets the check, the cluster and the check\'s hint', async () => {
    const seen: (string | undefined)[] = [];
    const results = await runChecks([
      check('per-cluster', async (_ctx, cluster) => {
        seen.push(cluster);
        return cluster === 'eu' ? { findings: [{ severity: 'error', object: { kind: 'Namespace', name: 'istio-system' }, field: 'metadata.labels', message: 'no network label' }] } : { findings: [], figures: { gateways: 1 } };
      }),
      check('whole-mesh', async (_ctx, cluster) => {
        seen.push(cluster ?? 'mesh');
        return { findings: [] };
      }, { scope: 'mesh' }),
    ], { ctx: { label: 'x' }, clusters: two, deadlineSeconds: 5 });
    expect(seen.sort()).toEqual(['eu', 'mesh', 'us']);
    expect(results.map((r) => `${r.id}/${r.cluster ?? '-'}=${r.status}`)).toEqual(['per-cluster/us=passed', 'per-cluster/eu=failed', 'whole-mesh/-=passed']);
    expect(results[0]!.figures).toEqual({ gateways: 1 });
    expect(results[1]!.findings).toEqual([{ check: 'per-cluster', severity: 'error', cluster: 'eu', object: { kind: 'Namespace', name: 'istio-system' }, field: 'metadata.labels', message: 'no network label', hint: 'fix per-cluster' }]);
  });

  it('a cluster where the check does not apply is skipped, with why; skipped is no failure', async () => {
    const results = await runChecks([check('from-here', async (_c, cluster) => (cluster === 'eu' ? { skipped: 'the spec does not run echo in eu', findings: [] } : { findings: [] }))], { ctx: { label: '' }, clusters: two, deadlineSeconds: 5 });
    expect(results.map((r) => `${r.cluster}=${r.status}`)).toEqual(['us=passed', 'eu=skipped']);
    expect(results[1]!.figures).toEqual({ skipped: 'the spec does not run echo in eu' });
    expect(exitCodeOf(results)).toBe(0);
  });

  it('a disruptive cluster check runs in one cluster at a time (scaling to zero everywhere at once would leave nothing to fail over to); so does every check with concurrency 1', async () => {
    /** The most runs of one check in flight at once, over two clusters. */
    const mostAtOnce = async (extra: Partial<Check<Ctx>>, concurrency?: number) => {
      let inFlight = 0;
      let most = 0;
      await runChecks([check('c', async () => {
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, 20));
        inFlight--;
        return { findings: [] };
      }, extra)], { ctx: { label: '' }, clusters: two, deadlineSeconds: 5, ...(concurrency ? { concurrency } : {}) });
      return most;
    };
    expect(await mostAtOnce({ disruptive: true }, 8)).toBe(1);
    expect(await mostAtOnce({}, 1)).toBe(1);
    expect(await mostAtOnce({})).toBe(2);
  });

  it('an unreachable cluster is a result of its own (not run, exit 3); the other cluster is checked in full', async () => {
    const ran: string[] = [];
    const results = await runChecks([check('a', async (_c, cluster) => {
      ran.push(cluster!);
      return { findings: [] };
    })], { ctx: { label: '' }, clusters: [{ name: 'us', reachable: true }, { name: 'eu', reachable: false, why: 'timeout after 10 s' }], deadlineSeconds: 5 });
    expect(ran).toEqual(['us']);
    expect(results.find((r) => r.cluster === 'eu')).toMatchObject({ status: 'unreachable', findings: [{ severity: 'error', cluster: 'eu', message: expect.stringContaining('timeout after 10 s') }] });
    expect(results.find((r) => r.cluster === 'us')!.status).toBe('passed');
    expect(exitCodeOf(results)).toBe(3);
  });

  it('a run past its deadline is unreachable for that cluster only, and told to stop (its signal aborts); the other cluster\'s result stands', async () => {
    const signals: AbortSignal[] = [];
    const results = await runChecks([check('slow', (_c, cluster, signal) => {
      signals.push(signal);
      return cluster === 'eu' ? new Promise<CheckOutput>(() => undefined) : clean();
    })], { ctx: { label: '' }, clusters: two, deadlineSeconds: 0.05 });
    expect(results.map((r) => r.status)).toEqual(['passed', 'unreachable']);
    expect(results[1]!.findings[0]!.message).toMatch(/eu did not answer this check: no answer within 0\.05 s/);
    expect(signals.map((s) => s.aborted)).toEqual([false, true]);
  });

  it('a finding without a severity has the check\'s', async () => {
    const [r] = await runChecks([check('sev', async () => ({ findings: [{ message: 'expires soon' }] }), { severity: 'warning' })], { ctx: { label: '' }, clusters: [two[0]!], deadlineSeconds: 5 });
    expect(r!.findings[0]).toMatchObject({ check: 'sev', severity: 'warning', cluster: 'us', hint: 'fix sev' });
  });

  it('a check that throws: failed with what it said (or unreachable when the classifier says so)', async () => {
    const boom = check('boom', async () => {
      throw new Error('list pods: forbidden\nstack …');
    });
    const [failed] = await runChecks([boom], { ctx: { label: '' }, clusters: [two[0]!], deadlineSeconds: 5 });
    expect(failed).toMatchObject({ status: 'failed', findings: [{ severity: 'error', message: 'the check could not run: list pods: forbidden', hint: 'fix boom' }] });
    const [down] = await runChecks([boom], { ctx: { label: '' }, clusters: [two[0]!], deadlineSeconds: 5, unreachable: () => true });
    expect(down!.status).toBe('unreachable');
  });

  it('warnings fail a check but not the exit code; info findings do neither', async () => {
    expect(statusOf([{ check: 'x', severity: 'info', message: '' }])).toBe('passed');
    expect(statusOf([{ check: 'x', severity: 'warning', message: '' }])).toBe('failed');
    const results = await runChecks([check('w', async () => ({ findings: [{ severity: 'warning', message: 'expires in 20 days' }] }))], { ctx: { label: '' }, clusters: [two[0]!], deadlineSeconds: 5 });
    expect(exitCodeOf(results)).toBe(0);
    expect(exitCodeOf([{ ...results[0]!, findings: [{ check: 'w', severity: 'error', message: '' }] }])).toBe(1);
  });

  it('--wait: a failing check is run again until it passes (a clock and sleep injected)', async () => {
    let clock = 0;
    let calls = 0;
    const flaky = check('flaky', async () => {
      calls++;
      return calls < 3 ? { findings: [{ severity: 'error', message: 'not yet' }] } : { findings: [] };
    });
    const results = await runChecks([flaky], { ctx: { label: '' }, clusters: [two[0]!], deadlineSeconds: 5, waitSeconds: 60, now: () => clock, sleep: async (ms) => void (clock += ms) });
    expect(calls).toBe(3);
    expect(results[0]!.status).toBe('passed');
    // Without --wait, once.
    calls = 0;
    expect((await runChecks([flaky], { ctx: { label: '' }, clusters: [two[0]!], deadlineSeconds: 5 }))[0]!.status).toBe('failed');
    expect(calls).toBe(1);
  });

  it('--wait gives up when time is up', async () => {
    let clock = 0;
    let calls = 0;
    const never = check('never', async () => {
      calls++;
      return { findings: [{ severity: 'error', message: 'broken' }] };
    });
    const results = await runChecks([never], { ctx: { label: '' }, clusters: [two[0]!], deadlineSeconds: 5, waitSeconds: 10, now: () => clock, sleep: async (ms) => void (clock += ms) });
    expect(results[0]!.status).toBe('failed');
    expect(calls).toBe(6); // at 0, 2, 4, 6, 8 and 10 s
  });

  it('interrupted (Ctrl-C): the running check is told through its signal and finishes; none starts after', async () => {
    const interrupt = new AbortController();
    const order: string[] = [];
    let sawAbort = false;
    const running = check('scale', async (_ctx, _cluster, signal) => {
      order.push('scale');
      interrupt.abort(new Error('interrupted (SIGINT)'));
      // A disruptive check puts back what it changed before it returns.
      sawAbort = signal.aborted;
      return { findings: [{ severity: 'error', message: 'stopped early; scaled back' }] };
    }, { scope: 'mesh', disruptive: true });
    const after = check('after', async () => {
      order.push('after');
      return { findings: [] };
    }, { scope: 'mesh', disruptive: true });
    const results = await runChecks([running, after], { ctx: { label: '' }, clusters: two, deadlineSeconds: 5, signal: interrupt.signal });
    expect(order).toEqual(['scale']);
    expect(sawAbort).toBe(true);
    expect(results.map((r) => `${r.id} ${r.status} ${r.figures?.skipped ?? ''}`.trim())).toEqual(['scale failed', 'after skipped interrupted']);
  });
  it('interrupted before the run: no check starts, the last ones neither, each skipped as interrupted', async () => {
    const interrupt = new AbortController();
    interrupt.abort(new Error('interrupted (SIGINT)'));
    let started = 0;
    const mark = (id: string, extra: Partial<Check<Ctx>> = {}) => check(id, async () => {
      started++;
      return { findings: [] };
    }, { scope: 'mesh', ...extra });
    const results = await runChecks([mark('read'), mark('scale', { disruptive: true }), mark('metrics', { last: true })], { ctx: { label: '' }, clusters: two, deadlineSeconds: 5, signal: interrupt.signal });
    expect(started).toBe(0);
    expect(results.map((r) => `${r.id} ${r.status} ${r.figures?.skipped}`)).toEqual(['read skipped interrupted', 'scale skipped interrupted', 'metrics skipped interrupted']);
  });
  it('disruptive checks run after every other one, one at a time; checks that do not apply are left out', async () => {
    const order: string[] = [];
    const mark = (id: string, extra: Partial<Check<Ctx>> = {}) => check(id, async () => {
      order.push(id);
      return { findings: [] };
    }, { scope: 'mesh', ...extra });
    await runChecks([mark('scale', { disruptive: true }), mark('read'), mark('off', { applies: () => false }), mark('probe', { disruptive: true })], { ctx: { label: '' }, clusters: two, deadlineSeconds: 5 });
    expect(order).toEqual(['read', 'scale', 'probe']);
    order.length = 0;
    await runChecks([mark('metrics', { last: true }), mark('scale', { disruptive: true }), mark('read')], { ctx: { label: '' }, clusters: two, deadlineSeconds: 5 });
    expect(order).toEqual(['read', 'scale', 'metrics']);
    expect(checkOrder([{ id: 'a', disruptive: true }, { id: 'b', disruptive: false }]).map((c) => c.id)).toEqual(['b', 'a']);
    // verify runs its checks in this order too (failover scales the service to zero and back: last).
    const list = [{ id: 'a', disruptive: false }, { id: 'scale', disruptive: true }, { id: 'b', disruptive: false }, { id: 'restart', disruptive: true }, { id: 'c', disruptive: false }];
    expect(checkOrder(list).map((c) => c.id)).toEqual(['a', 'b', 'c', 'scale', 'restart']);
    expect(checkOrder([{ id: 'x', disruptive: false }, { id: 'y', disruptive: false }]).map((c) => c.id)).toEqual(['x', 'y']);
    expect(checkOrder([])).toEqual([]);
    // A check that reads what the others did (requests in the metrics) runs after all of them, disruptive ones too.
    expect(checkOrder([{ id: 'metrics', disruptive: false, last: true }, ...list]).map((c) => c.id)).toEqual(['a', 'b', 'c', 'scale', 'restart', 'metrics']);
  });

  it('results stream as each check ends', async () => {
    const streamed: string[] = [];
    await runChecks([check('a', clean), check('b', clean, { scope: 'mesh' })], { ctx: { label: '' }, clusters: two, deadlineSeconds: 5, onResult: (r) => streamed.push(`${r.id}/${r.cluster ?? '-'}`) });
    expect(streamed.sort()).toEqual(['a/eu', 'a/us', 'b/-']);
  });
});

describe('rendering check results', () => {
  const results = [
    { id: 'gateway-network', category: 'network' as const, cluster: 'us', status: 'passed' as const, seconds: 0.1, findings: [] },
    { id: 'gateway-network', category: 'network' as const, cluster: 'eu', status: 'failed' as const, seconds: 0.1, findings: [{ check: 'gateway-network', severity: 'error' as const, cluster: 'eu', object: { kind: 'Namespace', name: 'istio-system' }, field: 'metadata.labels', message: 'topology.istio.io/network is "x", want "eu-net"', hint: 'kubectl label namespace istio-system topology.istio.io/network=eu-net --overwrite' }] },
    { id: 'root-expiry', category: 'trust' as const, status: 'failed' as const, seconds: 0.2, findings: [{ check: 'root-expiry', severity: 'warning' as const, cluster: 'us', peer: 'eu', message: 'the intermediate expires in 20 days' }] },
    { id: 'istiod-ready', category: 'control-plane' as const, cluster: 'eu', status: 'unreachable' as const, seconds: 10, findings: [{ check: 'istiod-ready', severity: 'error' as const, cluster: 'eu', message: 'eu could not be checked: timeout' }] },
  ];

  it('grouped by category in a fixed order, ✓ ‼ ✗ per check, each finding with cluster, object, field and hint', () => {
    const table = findingsTable(results, new Map([['gateway-network', 'the network label on istio-system and the gateway']]), GLYPHS);
    expect(table.split('\n')).toEqual([
      'control-plane',
      '  ✗ istiod-ready (eu)',
      '      eu: eu could not be checked: timeout',
      'trust',
      '  ‼ root-expiry',
      '      us → eu: the intermediate expires in 20 days',
      'network',
      '  ✗ the network label on istio-system and the gateway (us, eu)',
      '      eu: Namespace/istio-system metadata.labels: topology.istio.io/network is "x", want "eu-net"',
      '        hint: kubectl label namespace istio-system topology.istio.io/network=eu-net --overwrite',
      '3 checks: 2 error(s), 1 warning(s); not diagnosed: eu',
    ]);
  });

  it('JSON: every finding, and per check and cluster its status', () => {
    const json = findingsJson(results);
    expect(json.findings).toHaveLength(3);
    expect(json.checks).toEqual([
      { id: 'gateway-network', cluster: 'us', status: 'passed', seconds: 0.1 },
      { id: 'gateway-network', cluster: 'eu', status: 'failed', seconds: 0.1 },
      { id: 'root-expiry', status: 'failed', seconds: 0.2 },
      { id: 'istiod-ready', cluster: 'eu', status: 'unreachable', seconds: 10 },
    ]);
  });
});
