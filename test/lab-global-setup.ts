// Integration and e2e tiers run against the real lab: bring it up once (building what the cache
// lacks), and take it down at the end so the machine is left as it was found.
import { labDown } from '../src/lab/lab-down.ts';
import { readLabState } from '../src/lab/lab-state.ts';
import { labUp } from '../src/lab/lab-up.ts';
import type { Reporter } from '../src/core/reporter.ts';

const reporter: Reporter = { report: (m) => (m.level === 'debug' ? undefined : process.stderr.write(`[lab] ${m.message}\n`)) };

export async function setup(): Promise<() => Promise<void>> {
  const before = await readLabState();
  const started = Date.now();
  // A running lab with us, eu and more (the three-cluster file run alone) is kept, not replaced; up loads
  // what its nodes lack either way.
  const running = before.nodes.map((n) => n.cluster);
  await labUp({ clusters: before.running && running.includes('us') && running.includes('eu') ? running : ['us', 'eu'] }, reporter);
  process.stderr.write(`[lab] ready in ${Math.round((Date.now() - started) / 1000)} s\n`);
  return async () => {
    if (!before.running || process.env.CI) await labDown(reporter);
  };
}
