/**
 * The reader against hand-built ring images (docs/ring.md layout) in a temporary directory: bad names,
 * missing or foreign blocks, bad headers, corrupt slots, CRC mismatches and invalid metadata are typed
 * errors or counted drops, never crashes and never torn records.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { RING_MAGIC, RingReader, ringWriterPythonPath, type RingEvent } from '../src/ring/index.js';
import { crc32 as crc32Js } from '../src/ring/crc32.js';
import { craftRing, type CraftRing } from './fixtures/ring/craft.js';

const dir = mkdtempSync(join(tmpdir(), 'ring-format-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

function place(spec: CraftRing): string {
  const name = `crafted_${++counter}`;
  writeFileSync(join(dir, name), craftRing(spec));
  return name;
}

const open = (name: string, extra: Parameters<typeof RingReader.open>[1] = {}): Promise<RingReader> =>
  RingReader.open(name, { dir, access: 'fs', openTimeoutMs: 100, start: 'oldest', ...extra });

describe('opening', () => {
  it('rejects names that would leave the shm directory', async () => {
    await expect(RingReader.open('../etc/passwd')).rejects.toMatchObject({ code: 'SHM_READER_BAD_NAME' });
    await expect(RingReader.open('')).rejects.toMatchObject({ code: 'SHM_READER_BAD_NAME' });
  });

  it('a missing block is SHM_NOT_FOUND after openTimeoutMs', async () => {
    await expect(open('nope')).rejects.toMatchObject({ code: 'SHM_READER_NOT_FOUND' });
  });

  it('a block whose writer has not written the magic yet is RING_NOT_READY', async () => {
    await expect(open(place({ slots: 2, slotSize: 512, magic: 0n }))).rejects.toMatchObject({ code: 'SHM_READER_RING_NOT_READY' });
  });

  it.each<[string, Partial<CraftRing>]>([
    ['foreign magic', { magic: 0xdeadbeefn }],
    ['unknown version', { version: 2 }],
    ['odd header size', { headerSize: 8192 }],
    ['one slot', { slots: 1 }],
    ['slot size not a multiple of 64', { slotSize: 300 }],
    ['block shorter than its slots', { truncate: 4096 + 512 }],
  ])('%s is RING_BAD_HEADER', async (_label, spec) => {
    await expect(open(place({ slots: 2, slotSize: 512, ...spec }))).rejects.toMatchObject({ code: 'SHM_READER_RING_BAD_HEADER' });
  });

  it('a slot size above maxSlotBytes is refused before anything is allocated', async () => {
    await expect(open(place({ slots: 2, slotSize: 4096 }), { maxSlotBytes: 1024 })).rejects.toMatchObject({ code: 'SHM_READER_RING_BAD_HEADER' });
  });

  it('requires the addon only when asked to (access: "mmap")', async () => {
    const name = place({ slots: 2, slotSize: 512 });
    const reader = await open(name, { access: 'auto' });
    reader.close();
    if (!reader.mapped) await expect(open(name, { access: 'mmap' })).rejects.toMatchObject({ code: 'SHM_READER_NATIVE_UNAVAILABLE' });
  });
});

describe('bad slots are dropped and counted, good ones still delivered', () => {
  const payload = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i & 0xff);

  it('corrupt slot headers', async () => {
    const events: RingEvent[] = [];
    const name = place({
      slots: 4,
      slotSize: 512,
      records: [
        { seq: 1, payload: payload(8), payloadLen: 10_000n }, // longer than the slot
        { seq: 2, payload: payload(8), payloadOff: 100 }, // misaligned payload
        { seq: 3, payload: payload(8), meta: '{"ok":true}' },
      ],
    });
    const reader = await open(name, { onEvent: (e) => events.push(e) });
    const record = reader.read();
    expect(record?.seq).toBe(3);
    expect(Array.from(record!.bytes)).toEqual(Array.from(payload(8)));
    expect(record!.meta).toEqual({ ok: true });
    expect(reader.stats).toMatchObject({ corrupt: 2, received: 1 });
    expect(events.filter((e) => e.type === 'corrupt-slot')).toHaveLength(2);
    reader.close();
  });

  it('a slot whose lock says it was overwritten counts as overrun; one still being written is not returned', async () => {
    const name = place({
      slots: 4,
      slotSize: 512,
      writeSeq: 2,
      records: [
        { seq: 1, payload: payload(4), lock: 2n * 5n - 1n }, // writer is already writing record 5 here
        { seq: 2, payload: payload(4), lock: 3n }, // odd, below 2·seq: not complete
      ],
    });
    const reader = await open(name);
    expect(reader.read()).toBeUndefined();
    expect(reader.stats.overrun).toBe(1);
    expect(reader.stats.received).toBe(0);
    reader.close();
  });

  it('CRC-32 mismatches are dropped; matching CRCs pass', async () => {
    const good = payload(100);
    const meta = '{"n":1}';
    const crc = crc32(good, crc32(Buffer.from(meta)));
    expect(crc32Js(good, crc32Js(Buffer.from(meta)))).toBe(crc); // the fallback agrees with zlib
    const name = place({
      slots: 4,
      slotSize: 512,
      records: [
        { seq: 1, payload: good, meta, flags: 1, crc: crc ^ 1 },
        { seq: 2, payload: good, meta, flags: 1, crc },
      ],
    });
    const reader = await open(name);
    expect(reader.read()?.seq).toBe(2);
    expect(reader.stats).toMatchObject({ checksumFailures: 1, received: 1 });
    reader.close();
  });

  it('metadata that is not JSON still delivers the record, with meta undefined and the text kept', async () => {
    const name = place({ slots: 2, slotSize: 512, records: [{ seq: 1, payload: payload(4), meta: '{not json' }] });
    const reader = await open(name);
    const record = reader.read()!;
    expect(record.meta).toBeUndefined();
    expect(record.metaText).toBe('{not json');
    reader.close();
  });

  it('unknown and big-endian dtypes come as raw bytes; aligned little-endian ones as typed arrays', async () => {
    const f32 = new Float32Array([1.5, -2]);
    const name = place({
      slots: 4,
      slotSize: 512,
      records: [
        { seq: 1, payload: new Uint8Array(f32.buffer), dtype: '<f4', shape: [2] },
        { seq: 2, payload: new Uint8Array(f32.buffer), dtype: '>f4', shape: [2] },
        { seq: 3, payload: payload(6), dtype: '<f4', shape: [1] }, // not a whole number of elements
      ],
    });
    const reader = await open(name);
    expect(Array.from(reader.read()!.data as Float32Array)).toEqual([1.5, -2]);
    expect(reader.read()!.data).toBeInstanceOf(Uint8Array);
    expect(reader.read()!.data).toBeInstanceOf(Uint8Array);
    reader.close();
  });

  it('a pid that does not exist makes the writer dead', async () => {
    const name = place({ slots: 2, slotSize: 512, pid: 2 ** 22 + 12345 });
    const reader = await open(name);
    expect(reader.checkWriter()).toBe('pid-gone');
    reader.close();
  });
});

describe('the shipped Python module', () => {
  it('is found next to the package and agrees with the reader on magic and version', () => {
    const path = ringWriterPythonPath();
    expect(existsSync(path)).toBe(true);
    const source = readFileSync(path, 'utf8');
    expect(source).toContain(`MAGIC = 0x${RING_MAGIC.toString(16).toUpperCase()}`);
    expect(source).toMatch(/^VERSION = 1$/m);
    expect(source).not.toMatch(/^import numpy|^from numpy/m); // numpy stays optional
  });
});
