/**
 * Live blocks created by real CPython 3.8+ processes (every interpreter found), read on both the
 * fs path and the zero-copy mmap path: ShareableList of every value type in both header layouts,
 * mutation, positioned reads, unknown names, close-never-unlinks, unlink → SHM_GONE, writer gone.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShmReaderError } from '../src/errors.js';
import { nativeAddonStatus, openSharedMemory, readShareableList, type ShmAccess } from '../src/shm/index.js';
import { findPythons, ShmPeer, spawnScript, tagValue, untag, type Plain, type Tagged } from './fixtures/shm/python-peer.js';

const PACKAGE = dirname(dirname(fileURLToPath(import.meta.url)));
const pythons = findPythons();
console.log(`[shm] live tests against CPython ${pythons.map((p) => p.version).join(', ')}`);

// The zero-copy path is optional for users, but this checkout has a compiler and local headers,
// so the tests build the addon (offline, ~1 s) when it is missing and then require it.
beforeAll(() => {
  if (!existsSync(join(PACKAGE, 'native', 'build', 'Release', 'webmon_shm.node'))) {
    const built = spawnSync(process.execPath, [join(PACKAGE, 'native', 'build.mjs')], { encoding: 'utf8' });
    console.log(built.stdout.trim());
  }
});

const ACCESS: ShmAccess[] = ['fs', 'mmap'];

function errorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof ShmReaderError) return error.code;
    throw error;
  }
  throw new Error('expected a ShmReaderError');
}

const EVERY_TYPE: (Plain | { float: number })[] = [
  42,
  -1,
  0,
  2n ** 62n,
  -(2n ** 63n),
  Number.MAX_SAFE_INTEGER,
  3.5,
  { float: 2 },
  -0.000123,
  Number.NaN,
  true,
  false,
  null,
  'héllo',
  '',
  'exactly8',
  'ünïcödé ✓ 𝄞',
  new TextEncoder().encode('by'),
  new Uint8Array([0, 1, 2, 255]),
  new Uint8Array(0),
];

describe.each(pythons)('CPython $version', (python) => {
  let peer: ShmPeer;
  beforeAll(async () => {
    peer = await ShmPeer.start(python.path);
  });
  afterAll(async () => {
    await peer?.stop();
  });

  it('the addon is active for mmap access', () => {
    expect(nativeAddonStatus()).toMatchObject({ loaded: true, reason: null });
  });

  for (const access of ACCESS) {
    it(`reads a ShareableList of every value type (${access})`, async () => {
      const created = await peer.call<{ name: string; size: number; values: Tagged[] }>('create_list', {
        values: EVERY_TYPE.map((v) => tagValue(v)),
      });
      const block = openSharedMemory(created.name, { access });
      try {
        expect(block.access).toBe(access);
        expect(block.size).toBe(created.size);
        const list = readShareableList(block);
        expect(list.layout.variant).toBe(python.minor === 8 ? '3.8' : '3.9+');
        expect(list.layout.total).toBe(created.size);
        const expected = untag(created.values) as Plain[];
        expect(list.toArray()).toEqual(expected);
        expect(expected.map((_, i) => list.get(i))).toEqual(expected);
      } finally {
        block.close();
      }
    });

    it(`follows Python's updates and retyped slots (${access})`, async () => {
      const created = await peer.call<{ name: string; values: Tagged[] }>('create_list', {
        values: [tagValue(1), tagValue('abcdefghij'), tagValue(null), tagValue(true), tagValue(new Uint8Array([1, 2]))],
      });
      const block = openSharedMemory(`/${created.name}`, { access }); // Python also accepts the slash form
      try {
        const list = readShareableList(block);
        expect(list.toArray()).toEqual(untag(created.values));
        const updates: [number, Plain | { float: number }][] = [
          [0, 'ab'], // int slot becomes '8s'
          [2, 7], // None slot becomes 'q'
          [1, 'xy'], // shorter str in a 16-byte slot
          [3, false],
          [4, 1.25], // bytes slot holds a float in its first 8 bytes
          [0, null],
          [1, 'ü'.repeat(5)],
        ];
        for (const [index, value] of updates) {
          const after = await peer.call<{ values: Tagged[] }>('set_item', { name: created.name, index, value: tagValue(value) });
          const expected = untag(after.values) as Plain[];
          expect(list.get(index), `after sl[${index}] = ${String(value)}`).toEqual(expected[index]);
          expect(list.toArray()).toEqual(expected);
        }
      } finally {
        block.close();
      }
    });

    it(`reads and writes single fields with positioned reads (${access})`, async () => {
      const created = await peer.call<{ name: string; size: number }>('create_block', { size: 1 << 20, hex: 'deadbeef', offset: 4096 });
      const block = openSharedMemory(created.name, { access, writable: true });
      try {
        expect(block.size).toBe(1 << 20);
        const field = new Uint8Array(4);
        expect(Buffer.from(block.readInto(field, 4096)).toString('hex')).toBe('deadbeef');
        await peer.call('write', { name: created.name, offset: 1048572, hex: '01020304' });
        expect(Buffer.from(block.read(1048572, 4)).toString('hex')).toBe('01020304');
        expect(Buffer.from(await block.readIntoAsync(new Uint8Array(4), 1048572)).toString('hex')).toBe('01020304');
        block.write(Uint8Array.from([9, 8, 7]), 100);
        expect((await peer.call<{ hex: string }>('read', { name: created.name, offset: 100, length: 3 })).hex).toBe('090807');
        expect(errorCode(() => block.read(1048573, 4))).toBe('SHM_READER_OUT_OF_RANGE');
        expect(errorCode(() => block.readInto(new Uint8Array(1), -1))).toBe('SHM_READER_OUT_OF_RANGE');
      } finally {
        block.close();
      }
      const readOnly = openSharedMemory(created.name, { access });
      expect(errorCode(() => readOnly.write(new Uint8Array(1), 0))).toBe('SHM_READER_READ_ONLY');
      readOnly.close();
    });

    it(`never unlinks: the block outlives our close, and Python still reads it (${access})`, async () => {
      const created = await peer.call<{ name: string; values: Tagged[] }>('create_list', { values: [tagValue(5), tagValue('kept')] });
      const block = openSharedMemory(created.name, { access });
      const list = readShareableList(block);
      expect(list.get(1)).toBe('kept');
      block.close();
      block.close(); // idempotent
      expect(existsSync(`/dev/shm/${created.name}`)).toBe(true);
      expect(untag((await peer.call<{ values: Tagged[] }>('list_values', { name: created.name })).values)).toEqual([5, 'kept']);
      expect(errorCode(() => list.get(0))).toBe('SHM_READER_DISPOSED');
      expect(errorCode(() => block.read(0, 1))).toBe('SHM_READER_DISPOSED');
      // Node's API has no unlink at all.
      expect('unlink' in block).toBe(false);
    });

    it(`detects an unlinked block: SHM_GONE on the next read, SHM_NOT_FOUND on open (${access})`, async () => {
      const created = await peer.call<{ name: string }>('create_list', { values: [tagValue(1), tagValue('x')] });
      const block = openSharedMemory(created.name, { access });
      const list = readShareableList(block);
      expect(block.isUnlinked()).toBe(false);
      expect(list.get(0)).toBe(1);
      await peer.call('unlink', { name: created.name });
      expect(block.isUnlinked()).toBe(true);
      expect(errorCode(() => list.get(0))).toBe('SHM_READER_GONE');
      expect(errorCode(() => block.read(0, 8))).toBe('SHM_READER_GONE');
      expect(errorCode(() => openSharedMemory(created.name, { access }))).toBe('SHM_READER_NOT_FOUND');
      expect(errorCode(() => openSharedMemory(created.name, { access, checkUnlinked: false }))).toBe('SHM_READER_NOT_FOUND');
      block.close();
    });
  }

  it('rejects unknown and malformed names with typed errors', () => {
    expect(errorCode(() => openSharedMemory('psm_00000000_does_not_exist'))).toBe('SHM_READER_NOT_FOUND');
    expect(errorCode(() => openSharedMemory('/psm_nope_nope'))).toBe('SHM_READER_NOT_FOUND');
    for (const bad of ['', '/', 'a/b', '..', '/../etc/passwd', 'x\0y']) {
      expect(errorCode(() => openSharedMemory(bad)), JSON.stringify(bad)).toBe('SHM_READER_BAD_NAME');
    }
  });
});

describe('lifecycle details (newest CPython)', () => {
  const python = pythons[pythons.length - 1]!;
  let peer: ShmPeer;
  beforeAll(async () => {
    peer = await ShmPeer.start(python.path);
  });
  afterAll(async () => {
    await peer?.stop();
  });

  it('keeps serving an unlinked block when checkUnlinked is off', async () => {
    const created = await peer.call<{ name: string }>('create_block', { size: 64, hex: 'cafe' });
    const block = openSharedMemory(created.name, { checkUnlinked: false });
    await peer.call('unlink', { name: created.name });
    expect(block.isUnlinked()).toBe(true);
    expect(Buffer.from(block.read(0, 2)).toString('hex')).toBe('cafe');
    block.close();
  });

  it('sees which processes still map the block, so a writer that is gone can be told apart', async () => {
    const created = await peer.call<{ name: string }>('create_block', { size: 4096 });
    const block = openSharedMemory(created.name, { access: 'fs' });
    const holder = spawnScript(python.path, 'attach_holder.py', [created.name]);
    try {
      expect(JSON.parse(await holder.nextLine())).toEqual({ attached: 4096 });
      const withHolder = block.attachedProcesses();
      expect(withHolder).toContain(peer.pid);
      expect(withHolder).toContain(holder.child.pid);
      expect(withHolder).not.toContain(process.pid);
      const exited = new Promise((resolve) => holder.child.once('exit', resolve));
      holder.child.kill('SIGKILL');
      await exited;
      expect(block.attachedProcesses()).not.toContain(holder.child.pid);
      await peer.call('close', { name: created.name }); // the creator unmaps but does not unlink
      expect(block.attachedProcesses()).toEqual([]);
      expect(block.isUnlinked()).toBe(false); // the name still exists: nobody is writing, though
    } finally {
      holder.child.kill('SIGKILL');
      block.close();
    }
  });

  it('a mapped block seen by two processes stays coherent: Python writes show up in the live view', async () => {
    const created = await peer.call<{ name: string }>('create_block', { size: 8192 });
    const block = openSharedMemory(created.name, { access: 'mmap' });
    try {
      const live = block.bytes();
      expect(live[5000]).toBe(0);
      await peer.call('write', { name: created.name, offset: 5000, hex: '7f' });
      expect(live[5000]).toBe(0x7f);
      // A stray store into the read-only view stays private (copy-on-write) and never reaches Python.
      live[10] = 1;
      expect((await peer.call<{ hex: string }>('read', { name: created.name, offset: 10, length: 1 })).hex).toBe('00');
    } finally {
      block.close();
    }
    expect(errorCode(() => block.bytes())).toBe('SHM_READER_DISPOSED');
  });

  it('falls back silently to fs when the addon is unavailable, and says so', () => {
    const script = `
      import { nativeAddonStatus, openSharedMemory } from ${JSON.stringify(join(PACKAGE, 'src', 'shm', 'index.ts'))};
      const status = nativeAddonStatus();
      const result = { status };
      for (const access of ['auto', 'mmap']) {
        try { const b = openSharedMemory(process.env.BLOCK, { access }); result[access] = { access: b.access, reason: b.fallbackReason, byte: b.read(0, 1)[0] }; b.close(); }
        catch (e) { result[access] = { code: e.code }; }
      }
      console.log(JSON.stringify(result));`;
    return (async () => {
      const created = await peer.call<{ name: string }>('create_block', { size: 16, hex: '2a' });
      const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: PACKAGE,
        encoding: 'utf8',
        env: { ...process.env, WEBMON_SHM_NATIVE: '0', BLOCK: created.name },
        timeout: 60_000,
      });
      expect(run.status, run.stderr).toBe(0);
      const result = JSON.parse(run.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
      expect(result['status']).toMatchObject({ loaded: false, reason: 'disabled by WEBMON_SHM_NATIVE=0' });
      expect(result['auto']).toEqual({ access: 'fs', reason: 'native addon unavailable', byte: 42 });
      expect(result['mmap']).toEqual({ code: 'SHM_READER_NATIVE_UNAVAILABLE' });
    })();
  });
});
