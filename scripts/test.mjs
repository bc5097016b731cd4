// `npm test`: the whole test suite from a fresh clone. Installs what it needs, builds every
// package, runs every package's tests in one vitest run and prints one summary line.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureChromium, ensurePnpm, fail, installDependencies, log, root, run } from './toolchain.mjs';

process.env.TURBO_TELEMETRY_DISABLED = '1';
const pnpm = ensurePnpm();
installDependencies(pnpm);
process.env.WEBMON_CHROMIUM = ensureChromium();

log('building all packages');
if (run(pnpm[0], [...pnpm.slice(1), 'exec', 'turbo', 'run', 'build', '--output-logs=errors-only']) !== 0) fail('build failed.');
// vitest strips types without checking them: typecheck sources and tests first.
log('type-checking all packages and their tests');
if (run(pnpm[0], [...pnpm.slice(1), 'exec', 'turbo', 'run', 'typecheck', '--output-logs=errors-only']) !== 0) fail('typecheck failed.');

const resultsDir = join(root, '.test-results');
mkdirSync(resultsDir, { recursive: true });
const reportFile = join(resultsDir, 'vitest.json');
log('running tests');
const status = run(pnpm[0], [
  ...pnpm.slice(1), 'exec', 'vitest', 'run',
  '--reporter=default', '--reporter=json', `--outputFile.json=${reportFile}`,
  ...process.argv.slice(2),
]);

let summary;
try {
  const report = JSON.parse(readFileSync(reportFile, 'utf8'));
  summary = `${report.numPassedTests} passed, ${report.numFailedTests} failed`;
  if (report.numPendingTests || report.numTodoTests) summary += `, ${report.numPendingTests + report.numTodoTests} skipped`;
  if (report.numTotalTests === 0) {
    process.stdout.write(`\n${summary}\n`);
    fail('no test ran.');
  }
} catch (error) {
  fail(`vitest wrote no report (${error.message}); exit status ${status}.`);
}
process.stdout.write(`\n${summary}\n`);
process.exit(status);
