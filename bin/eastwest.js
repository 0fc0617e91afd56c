#!/usr/bin/env node
// Entry point of `eastwest`. An installed package runs the JavaScript built into dist/ (npm pack builds
// it on prepack); a clone runs the TypeScript sources directly with Node's type stripping.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [major, minor] = process.versions.node.split('.').map(Number);
const source = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const fromSource = existsSync(source) && !source.includes('/node_modules/');
const needs = fromSource ? [22, 18] : [22, 0];
if (major < needs[0] || (major === needs[0] && minor < needs[1])) {
  process.stderr.write(`eastwest needs Node.js >= ${needs.join('.')} (this is ${process.version}).${fromSource ? ' Run it through npx or npm, which use the project\'s own Node.' : ''}\n`);
  process.exit(2);
}
const { main } = await import(fromSource ? '../src/cli/main.ts' : '../dist/cli/main.js');
await main(process.argv);
