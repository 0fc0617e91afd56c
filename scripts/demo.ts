// `npm run demo`: lab up → apply -f examples/lab.yaml → verify, printing the verification table, then the
// cross-cluster traffic that verify itself sent (from the clusters' Prometheus).
import { spawnSync } from 'node:child_process';

const eastwest = (args: string[]) => {
  process.stderr.write(`\n$ eastwest ${args.join(' ')}\n`);
  const r = spawnSync(process.execPath, ['bin/eastwest.js', ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

eastwest(['lab', 'up']);
eastwest(['apply', '-f', 'examples/lab.yaml']);
eastwest(['verify', '-f', 'examples/lab.yaml']);
eastwest(['traffic', '-f', 'examples/lab.yaml']);
process.stderr.write('\nThe lab keeps running: explore it with KUBECONFIG=/var/lib/eastwest-lab/kubeconfig, stop it with `npx eastwest lab down`.\nKiali (API): kubectl -n istio-system port-forward deploy/kiali 20001, then http://localhost:20001/kiali/api/status\n');
