// Bootstraps what the workspace needs on a fresh machine (Node 20 + npm only):
// the pinned pnpm, the locked dependencies and, for browser tests, Debian's Chromium.
// Anything it cannot provide makes it fail loudly with what is missing; it never skips.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pinned = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager.split('@')[1];

export function log(message) {
  process.stdout.write(`[webmon] ${message}\n`);
}

export function fail(message) {
  process.stderr.write(`\n[webmon] ERROR: ${message}\n`);
  process.exit(1);
}

export function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root, ...options });
  if (result.error) fail(`could not run ${command}: ${result.error.message}`);
  return result.status ?? 1;
}

function versionOf(command) {
  try {
    return execFileSync(command, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** Returns the argv prefix that runs the pinned pnpm. */
export function ensurePnpm() {
  if (versionOf('pnpm') === pinned) return ['pnpm'];
  log(`installing pnpm ${pinned} (npm install -g pnpm@${pinned})`);
  if (run('npm', ['install', '-g', `pnpm@${pinned}`, '--no-fund', '--no-audit']) === 0 && versionOf('pnpm') === pinned) {
    return ['pnpm'];
  }
  log(`global install not possible; falling back to npx pnpm@${pinned}`);
  if (run('npx', ['-y', `pnpm@${pinned}`, '--version']) !== 0) {
    fail(`pnpm ${pinned} is required and could not be installed (npm install -g pnpm@${pinned}).`);
  }
  return ['npx', '-y', `pnpm@${pinned}`];
}

export function installDependencies(pnpm) {
  const frozen = process.env.CI ? ['--frozen-lockfile'] : [];
  if (run(pnpm[0], [...pnpm.slice(1), 'install', ...frozen]) !== 0) fail('pnpm install failed.');
}

export const chromiumCandidates = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** Debian's Chromium for the browser tests: installed with apt when we are root, else a clear error. */
export function ensureChromium() {
  const configured = process.env.WEBMON_CHROMIUM;
  if (configured) {
    if (!existsSync(configured)) fail(`WEBMON_CHROMIUM=${configured} does not exist.`);
    return configured;
  }
  const found = chromiumCandidates.find((path) => existsSync(path));
  if (found) return found;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !versionOf('apt-get')) {
    fail('the browser tests need Debian Chromium (/usr/bin/chromium). Install it with `sudo apt-get install -y chromium`, or set WEBMON_CHROMIUM to a Chromium binary.');
  }
  log('installing Debian chromium for the browser tests (apt-get install chromium, ~90 s)');
  if (run('apt-get', ['update', '-qq']) !== 0) fail('apt-get update failed; cannot install chromium.');
  if (run('apt-get', ['install', '-y', '-qq', 'chromium'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }) !== 0) {
    fail('apt-get install chromium failed.');
  }
  const installed = chromiumCandidates.find((path) => existsSync(path));
  if (!installed) fail('chromium was installed but /usr/bin/chromium is missing.');
  return installed;
}
