// native/toolchain.cjs: what building the addon needs, found by looking at a given environment. The build
// script skips with its answer and nativeAddonStatus() repeats it, so each missing piece must be named.
// Real files only: a PATH of symlinks to this machine's tools, a fake Node prefix with or without headers.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

interface Toolchain {
  nodedir: string | null;
  gyp: string | null;
  compiler: string | null;
  make: string | null;
  python: string | null;
  missing: string[];
}
const { probeToolchain } = createRequire(import.meta.url)('../native/toolchain.cjs') as {
  probeToolchain(env: Record<string, string | undefined>, execPath: string): Toolchain;
};

const scratch = mkdtempSync(join(tmpdir(), 'webmon-toolchain-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A Node prefix `<dir>/bin/node` with (or without) `include/node/node_api.h`, and npm's node-gyp beside it. */
function fakeNodePrefix(name: string, headers: boolean): string {
  const prefix = join(scratch, name);
  mkdirSync(join(prefix, 'bin'), { recursive: true });
  if (headers) {
    mkdirSync(join(prefix, 'include', 'node'), { recursive: true });
    writeFileSync(join(prefix, 'include', 'node', 'node_api.h'), '');
  }
  const gyp = join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin');
  mkdirSync(gyp, { recursive: true });
  writeFileSync(join(gyp, 'node-gyp.js'), '');
  return join(prefix, 'bin', 'node');
}

/** A PATH folder holding executables with these names (symlinks to /bin/true: only their presence counts). */
function pathWith(name: string, tools: string[]): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  for (const tool of tools) symlinkSync('/bin/true', join(dir, tool));
  return dir;
}

describe('probeToolchain', () => {
  it('finds everything: cc, make, python3 on PATH, the headers and node-gyp beside node', () => {
    const node = fakeNodePrefix('complete', true);
    const tools = probeToolchain({ PATH: pathWith('all-tools', ['cc', 'make', 'python3']) }, node);
    expect(tools.missing).toEqual([]);
    expect(tools.nodedir).toBe(join(scratch, 'complete'));
    expect(tools.compiler).toBe(join(scratch, 'all-tools', 'cc'));
    expect(tools.gyp).toMatch(/node-gyp\.js$/);
  });

  it('names each missing piece and where it looked', () => {
    const node = fakeNodePrefix('no-headers', false);
    const tools = probeToolchain({ PATH: pathWith('empty', []) }, node);
    expect(tools.missing).toEqual([
      expect.stringMatching(/^Node's headers \(no include\/node\/node_api\.h under .*no-headers/),
      expect.stringMatching(/^a C compiler \(no cc on PATH/),
      'make (make not found on PATH)',
      expect.stringMatching(/^Python 3 /),
    ]);
  });

  it('honours CC (its first word) and MAKE as gyp and node-gyp do', () => {
    const node = fakeNodePrefix('cc-variable', true);
    const PATH = pathWith('other-tools', ['ccache', 'gmake', 'python3']);
    expect(probeToolchain({ PATH, CC: 'ccache gcc', MAKE: 'gmake' }, node).missing).toEqual([]);
    expect(probeToolchain({ PATH, CC: '/nonexistent/cc', MAKE: 'gmake' }, node).missing).toEqual(['a C compiler (CC=/nonexistent/cc not found)']);
    // npm_config_nodedir wins over the node binary's prefix.
    fakeNodePrefix('headers-elsewhere', true);
    const nodedir = join(scratch, 'headers-elsewhere');
    expect(probeToolchain({ PATH, CC: 'ccache', MAKE: 'gmake', npm_config_nodedir: nodedir }, fakeNodePrefix('bare', false)).nodedir).toBe(nodedir);
  });
});
