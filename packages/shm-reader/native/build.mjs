#!/usr/bin/env node
// Builds the optional zero-copy addon (native/webmon_shm.c) with node-gyp, strictly offline. It is the
// package's `install` script (npm runs it when the package is installed) and its `build:native` script.
// It never fails: whatever goes wrong, it prints one line, records it in native/build/last-build.txt
// (npm hides install output, so nativeAddonStatus() reads it back) and exits 0; the library then falls
// back to positioned fs reads (see docs/shm.md).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const { probeToolchain } = createRequire(import.meta.url)('./toolchain.cjs');

function finish(message) {
  const line = `[shm-reader] native addon: ${message}`;
  console.log(line);
  try {
    mkdirSync(join(here, 'build'), { recursive: true });
    writeFileSync(join(here, 'build', 'last-build.txt'), `${line}\n`);
  } catch {
    // a read-only install location: the printed line is all we can leave
  }
  process.exit(0);
}

function skip(reason) {
  finish(`${reason}; using the fs fallback (positioned reads, no zero-copy)`);
}

try {
  if (process.env.WEBMON_SHM_SKIP_NATIVE === '1') skip('skipped (WEBMON_SHM_SKIP_NATIVE=1)');
  // /dev/shm is Linux only; macOS needs shm_open in the addon and Windows is unsupported (docs/shm.md).
  if (process.platform !== 'linux') skip(`not built on ${process.platform}`);

  const tools = probeToolchain();
  if (tools.missing.length > 0) skip(`not built, missing ${tools.missing.join('; ')}`);

  // --nodedir stops node-gyp from downloading headers: these are the running node's own.
  const result = spawnSync(process.execPath, [tools.gyp, 'rebuild', `--nodedir=${tools.nodedir}`, `--python=${tools.python}`], {
    cwd: here,
    encoding: 'utf8',
    env: { ...process.env, npm_config_nodedir: tools.nodedir },
    timeout: 180_000,
  });
  if (result.status !== 0) {
    // The compiler's first error says more than node-gyp's closing "gyp ERR! not ok".
    const lines = `${result.error?.message ?? ''}\n${result.stdout ?? ''}\n${result.stderr ?? ''}`.split('\n').map((l) => l.trim()).filter(Boolean);
    const why = lines.find((l) => /error/i.test(l) && !l.startsWith('gyp ')) ?? lines.filter((l) => l.startsWith('gyp ERR!')).shift() ?? 'unknown error';
    skip(`build failed (${why.slice(0, 160)})`);
  }
  if (!existsSync(join(here, 'build', 'Release', 'webmon_shm.node'))) skip('build produced no .node file');
  finish('built native/build/Release/webmon_shm.node (zero-copy mmap path available)');
} catch (error) {
  skip(`build failed (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`);
}
