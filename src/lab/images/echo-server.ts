// The demo `echo` server: answers every HTTP request with its region, cluster and pod, one line,
// e.g. "region=eu cluster=eu pod=echo-7d9f…". Runs in the lab's echo image under Node.
// On SIGTERM it keeps answering for DRAIN_SECONDS (default 10): the pod has left the EndpointSlice, but
// proxies that have not had the update yet still send to it, through its sidecar, which drains for 5 s
// (Istio's terminationDrainDuration) and must never find the server gone first. Its answers then say
// `Connection: close`, so pooled connections end after their request instead of being cut; then it stops
// listening and exits. Idle connections from its sidecar are never timed out by the server (Node's 5 s
// keep-alive timeout raced the sidecar reusing a connection: an upstream 503, which Istio does not retry).
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 8080);
const identity = `region=${process.env.REGION ?? 'unknown'} cluster=${process.env.CLUSTER ?? 'unknown'} pod=${process.env.POD_NAME ?? process.env.HOSTNAME ?? 'unknown'}`;

const drainSeconds = Number(process.env.DRAIN_SECONDS ?? 10);
let draining = false;

const server = createServer((request, response) => {
  if (draining) response.setHeader('connection', 'close');
  if (request.url === '/healthz') {
    response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    return;
  }
  response.writeHead(200, { 'content-type': 'text/plain' }).end(`${identity}\n`);
});
server.keepAliveTimeout = 0;
server.listen(port, () => process.stdout.write(`echo listening on :${port} as ${identity}\n`));
const stop = () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
};
process.on('SIGINT', stop);
process.on('SIGTERM', () => {
  if (draining) return;
  draining = true;
  process.stdout.write(`draining for ${drainSeconds} s\n`);
  setTimeout(stop, drainSeconds * 1000);
});
