#!/usr/bin/env node
// Builds the optional zero-copy addon (native/webmon_shm.c) with node-gyp, strictly offline.
// This script never fails the package build: whatever goes wrong, it prints one line and exits 0,
// and the library falls back to positioned fs reads (see docs/shm.md).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const notice = (message) => console.log(`[shm-reader] native addon: ${message}`);

function skip(reason) {
  notice(`${reason}; using the fs fallback (positioned reads, no zero-copy)`);
  process.exit(0);
}

if (process.env.WEBMON_SHM_SKIP_NATIVE === '1') skip('skipped (WEBMON_SHM_SKIP_NATIVE=1)');
// /dev/shm is Linux only; macOS needs shm_open in the addon and Windows is unsupported (docs/shm.md).
if (process.platform !== 'linux') skip(`not built on ${process.platform}`);

// Headers: node-gyp downloads them unless --nodedir points at a local copy. Never download:
// use npm_config_nodedir if given, else the prefix of this very node binary (Debian: /usr).
const candidates = [process.env.npm_config_nodedir, dirname(dirname(process.execPath))].filter(Boolean);
const nodedir = candidates.find((dir) => existsSync(join(dir, 'include', 'node', 'node_api.h')));
if (!nodedir) skip('no local Node headers (include/node/node_api.h)');

// node-gyp: the one npm/pnpm point us at, else the copy bundled with npm or pnpm next to this node.
const require = createRequire(import.meta.url);
const prefix = dirname(dirname(process.execPath));
const gypCandidates = [
  process.env.npm_config_node_gyp,
  join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  join(prefix, 'lib', 'node_modules', 'pnpm', 'dist', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
];
try {
  gypCandidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
} catch {
  // not installed as a package: the bundled copies above are enough
}
const gyp = gypCandidates.find((file) => file && file.endsWith('.js') && existsSync(file));
if (!gyp) skip('node-gyp not found');

const result = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`], {
  cwd: here,
  encoding: 'utf8',
  env: { ...process.env, npm_config_nodedir: nodedir },
  timeout: 180_000,
});
if (result.status !== 0) {
  // The compiler's first error says more than node-gyp's closing "gyp ERR! not ok".
  const lines = `${result.error?.message ?? ''}\n${result.stdout ?? ''}\n${result.stderr ?? ''}`.split('\n').map((l) => l.trim()).filter(Boolean);
  const why = lines.find((l) => /error/i.test(l) && !l.startsWith('gyp ')) ?? lines.filter((l) => l.startsWith('gyp ERR!')).shift() ?? 'unknown error';
  skip(`build failed (${why.slice(0, 160)})`);
}
if (!existsSync(join(here, 'build', 'Release', 'webmon_shm.node'))) skip('build produced no .node file');
notice(`built native/build/Release/webmon_shm.node (zero-copy mmap path available)`);
