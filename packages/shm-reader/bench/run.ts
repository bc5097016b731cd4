/**
 * Runs every `bench/*.bench.ts` of this package in sequence, each in its own process (so one bench's
 * heap and sockets never skew the next): `pnpm --filter @webmon/shm-reader bench`.
 * BENCH_FILTER=manager runs only the files whose name contains that text.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const filter = process.env['BENCH_FILTER'] ?? '';
const files = readdirSync(here)
  .filter((name) => name.endsWith('.bench.ts') && name.includes(filter))
  .sort();
if (files.length === 0) {
  console.error(`no bench/*.bench.ts matching "${filter}"`);
  process.exit(1);
}
let failed = 0;
for (const file of files) {
  console.log(`\n=== ${file} ===`);
  const started = Date.now();
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(here, file)], { stdio: 'inherit', env: process.env });
  console.log(`=== ${file}: ${result.status === 0 ? 'done' : `FAILED (exit ${result.status ?? result.signal})`} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (result.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
