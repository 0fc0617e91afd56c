// `npm test`: every tier (unit, integration against the real lab, e2e), then one plain closing line
// "N passed, N failed" that any CI reads. The lab is built (or found in the cache) by the tiers' setup.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';

mkdirSync('.eastwest', { recursive: true });
const resultsFile = '.eastwest/test-results.json';
const run = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${resultsFile}`, ...process.argv.slice(2)], { stdio: 'inherit' });
let code = run.status ?? 1;
if (existsSync(resultsFile)) {
  const results = JSON.parse(readFileSync(resultsFile, 'utf8')) as { numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number; numTotalTests: number };
  const skipped = results.numPendingTests + results.numTodoTests;
  process.stdout.write(`\ntests: ${results.numPassedTests} passed, ${results.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  if (results.numTotalTests === 0) code = 1;
} else {
  process.stdout.write('\ntests: 0 passed, 1 failed\n');
  code = code || 1;
}
process.exit(code);
