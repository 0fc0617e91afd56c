#!/usr/bin/env node
// Entry point for `npx eastwest`. The sources are TypeScript run directly by Node's type stripping,
// so Node >= 22.18 is needed; the project brings its own (devDependency `node`), first on PATH under npx/npm.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`eastwest needs Node.js >= 22.18 (this is ${process.version}); run it through npx or npm, which use the project's own Node.\n`);
  process.exit(2);
}
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
