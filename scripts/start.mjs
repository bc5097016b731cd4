// `npm start`: installs what is missing, builds, and runs the webmon app. With no napari around it runs
// on the built-in napari simulator (needs Python ≥ 3.8). Extra arguments go to `webmon` (see --help).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePnpm, fail, installDependencies, log, root, run } from './toolchain.mjs';

process.env.TURBO_TELEMETRY_DISABLED = '1';
const pnpm = ensurePnpm();
installDependencies(pnpm);
log('building');
if (run(pnpm[0], [...pnpm.slice(1), 'exec', 'turbo', 'run', 'build', '--output-logs=errors-only']) !== 0) fail('build failed.');
const cli = join(root, 'apps', 'webmon', 'dist', 'cli.js');
if (!existsSync(cli)) fail(`the app was not built (${cli} is missing).`);
process.exit(run(process.execPath, [cli, ...process.argv.slice(2)]));
