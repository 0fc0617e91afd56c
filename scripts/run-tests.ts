// `npm test`: the tiers one after another — unit (pure), integration (the engine against the lab's real
// API servers), lab (the lab's lifecycle, the package), e2e (real lab with Istio) — then one plain closing line "N passed, N failed" that any CI reads. Each lab tier brings the
// lab up (building what the cache lacks) and takes it down after itself.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';

interface Counts { numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number; numTotalTests: number }

mkdirSync('.eastwest', { recursive: true });
const tiers = process.argv.length > 2 ? process.argv.slice(2) : ['unit', 'integration', 'lab', 'e2e'];
const total = { passed: 0, failed: 0, skipped: 0 };
let code = 0;
for (const tier of tiers) {
  const resultsFile = `.eastwest/test-results-${tier}.json`;
  rmSync(resultsFile, { force: true });
  const started = Date.now();
  const run = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--project', tier, '--reporter=default', '--reporter=json', `--outputFile.json=${resultsFile}`], { stdio: 'inherit' });
  if (existsSync(resultsFile)) {
    const r = JSON.parse(readFileSync(resultsFile, 'utf8')) as Counts;
    total.passed += r.numPassedTests;
    total.failed += r.numFailedTests;
    total.skipped += r.numPendingTests + r.numTodoTests;
    process.stdout.write(`${tier}: ${r.numPassedTests} passed, ${r.numFailedTests} failed in ${Math.round((Date.now() - started) / 1000)} s\n`);
  } else {
    total.failed += 1;
    process.stdout.write(`${tier}: no results (vitest exit ${run.status})\n`);
  }
  if (run.status !== 0) code = run.status ?? 1;
}
process.stdout.write(`\ntests: ${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}\n`);
process.exit(total.passed === 0 ? 1 : code);
