// The demo `echo` server: answers every HTTP request with its region, cluster and pod, one line,
// e.g. "region=eu cluster=eu pod=echo-7d9f…". Runs in the lab's echo image under Node.
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 8080);
const identity = `region=${process.env.REGION ?? 'unknown'} cluster=${process.env.CLUSTER ?? 'unknown'} pod=${process.env.POD_NAME ?? process.env.HOSTNAME ?? 'unknown'}`;

const server = createServer((request, response) => {
  if (request.url === '/healthz') {
    response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    return;
  }
  response.writeHead(200, { 'content-type': 'text/plain' }).end(`${identity}\n`);
});
server.listen(port, () => process.stdout.write(`echo listening on :${port} as ${identity}\n`));
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => server.close(() => process.exit(0)));
