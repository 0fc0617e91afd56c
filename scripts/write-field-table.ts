// Writes the spec's field table into README.md, between its markers, from the zod schema (npm run docs).
// A unit test (test/unit/readme.test.ts) fails when the README's table is not what this writes.
import { readFileSync, writeFileSync } from 'node:fs';
import { replaceFieldTable } from '../src/spec/field-table.ts';

const readme = new URL('../README.md', import.meta.url);
const before = readFileSync(readme, 'utf8');
const after = replaceFieldTable(before);
if (after !== before) writeFileSync(readme, after);
process.stderr.write(after === before ? 'README.md: the field table is current\n' : 'README.md: field table rewritten\n');
