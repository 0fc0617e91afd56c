// The lab's networks on this machine: one bridge (the "internet" segment) with a veth into each node's
// network namespace, and routes for each cluster's LoadBalancer range to the node that owns it.
// No node gets a default route: traffic can only reach the segment and the other clusters' gateways.
import { existsSync, readdirSync } from 'node:fs';
import { exec } from '../util/exec.ts';
import { LAB_PREFIX, type LabNodePlan, type LabPlan } from './plan.ts';

const IPTABLES_COMMENT = 'eastwest-lab';

export const ip = (...args: string[]) => exec('ip', args);
export const ipIn = (netns: string, ...args: string[]) => exec('ip', ['-n', netns, ...args]);

async function linkExists(name: string): Promise<boolean> {
  return (await exec('ip', ['link', 'show', 'dev', name], { okCodes: [1] })).code === 0;
}

export async function createBridge(plan: LabPlan): Promise<void> {
  if (!(await linkExists(plan.bridge))) {
    await ip('link', 'add', plan.bridge, 'type', 'bridge');
    await ip('addr', 'add', `${plan.bridgeIp}/24`, 'dev', plan.bridge);
  }
  await ip('link', 'set', plan.bridge, 'up');
  // Frames between nodes cross the host's FORWARD chain (br_netfilter): accept them explicitly.
  // Nothing from the lab segment is forwarded anywhere else by the host: the lab stays on this machine.
  const accept = ['FORWARD', '-i', plan.bridge, '-o', plan.bridge, '-m', 'comment', '--comment', IPTABLES_COMMENT, '-j', 'ACCEPT'];
  const drop = ['FORWARD', '-i', plan.bridge, '-m', 'comment', '--comment', IPTABLES_COMMENT, '-j', 'DROP'];
  for (const [chain, ...rule] of [drop, accept]) {
    if ((await exec('iptables', ['-C', chain!, ...rule], { okCodes: [1, 2] })).code !== 0) await exec('iptables', ['-I', chain!, '1', ...rule]);
  }
}

export async function createNodeNetwork(plan: LabPlan, node: LabNodePlan): Promise<void> {
  if (!existsSync(`/run/netns/${node.netns}`)) await ip('netns', 'add', node.netns);
  if (!(await linkExists(node.hostVeth))) await ip('link', 'add', node.hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', node.netns);
  await ip('link', 'set', node.hostVeth, 'master', plan.bridge, 'up');
  await ipIn(node.netns, 'link', 'set', 'lo', 'up');
  await ipIn(node.netns, 'addr', 'replace', `${node.nodeIp}/24`, 'dev', 'eth0');
  await ipIn(node.netns, 'link', 'set', 'eth0', 'up');
  // Processes on the node (the API server calling webhooks) reach Service IPs: the route only lets the
  // connect() happen; kube-proxy's OUTPUT DNAT then sends it to a pod. Nothing else goes this way.
  await ipIn(node.netns, 'route', 'replace', node.serviceCidr, 'dev', 'eth0', 'src', node.nodeIp);
}

/** Each cluster's LoadBalancer range goes to its node, from the host and from every other node. */
export async function addLoadBalancerRoutes(plan: LabPlan): Promise<void> {
  for (const owner of plan.nodes) {
    await ip('route', 'replace', owner.loadBalancerCidr, 'via', owner.nodeIp, 'dev', plan.bridge);
    for (const other of plan.nodes) {
      if (other !== owner) await ipIn(other.netns, 'route', 'replace', owner.loadBalancerCidr, 'via', owner.nodeIp, 'dev', 'eth0');
    }
  }
}

/** True when an iptables binary is on PATH (a new machine has none until the lab installs it). */
export async function iptablesAvailable(): Promise<boolean> {
  const dirs = (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':');
  return dirs.some((d) => d !== '' && existsSync(`${d}/iptables`));
}

/** What the lab's network left on this machine (for status, stale-state detection and down). */
export async function labNetworkState(bridge: string): Promise<{ netns: string[]; links: string[]; iptablesRules: string[] }> {
  const netns = existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith(`${LAB_PREFIX}-`)).sort() : [];
  const links = (await exec('ip', ['-o', 'link', 'show'])).stdout
    .split('\n')
    .map((l) => /^\d+:\s+([^:@]+)/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined && (n === bridge || n.startsWith('ew-')))
    .sort();
  // Before the lab's packages are installed there is no iptables, and so no rule of ours.
  const iptablesRules = (await iptablesAvailable())
    ? (await exec('iptables', ['-S', 'FORWARD'], { okCodes: [1, 4] })).stdout.split('\n').filter((l) => l.includes(IPTABLES_COMMENT))
    : [];
  return { netns, links, iptablesRules };
}

export async function removeLabNetwork(bridge: string): Promise<void> {
  const state = await labNetworkState(bridge);
  for (const rule of state.iptablesRules) {
    await exec('iptables', rule.replace(/^-A /, '-D ').match(/"[^"]*"|\S+/g)!.map((t) => t.replace(/^"|"$/g, '')), { okCodes: [1] });
  }
  for (const link of state.links.filter((l) => l !== bridge)) await exec('ip', ['link', 'del', link], { okCodes: [1] });
  if (state.links.includes(bridge)) await exec('ip', ['link', 'del', bridge], { okCodes: [1] });
  for (const ns of state.netns) await exec('ip', ['netns', 'del', ns], { okCodes: [1] });
}
