import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDirectFileWritable } from '../src/direct-file-writable.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'webmon-direct-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Pieces of every awkward size: bytes, odd lengths, blocks ± 1, frames, and more than a stage at once. */
function pieces(): Uint8Array[] {
  const sizes = [1, 7, 4095, 4096, 4097, 65_537, 4 * 2 ** 20, 3, 4 * 2 ** 20 + 13, 9 * 2 ** 20 + 1, 100, 2 ** 20 - 1, 17 * 2 ** 20 + 5, 1];
  return sizes.map((size) => randomBytes(size));
}

const joined = (parts: Uint8Array[]): Buffer => Buffer.concat(parts);

describe('openDirectFileWritable', () => {
  it('writes every byte in order, whatever the sizes, and the file ends at the last one', async () => {
    const path = join(dir, 'out.bin');
    const writable = await openDirectFileWritable(path);
    // This machine's tmpdir (ext4) takes O_DIRECT: the buffered fallback would not test this file.
    expect(writable).toBeDefined();
    const parts = pieces();
    const extra = randomBytes(5);
    let expected = 0n;
    for (const [index, part] of parts.entries()) {
      if (index % 3 === 0) await writable!.writev([part, part.subarray(0, 0), extra]);
      else await writable!.write(part);
      expected += BigInt(part.byteLength + (index % 3 === 0 ? 5 : 0));
      expect(writable!.position()).toBe(expected);
    }
    await writable!.close();
    const written = parts.flatMap((part, index) => (index % 3 === 0 ? [part, extra] : [part]));
    const bytes = await readFile(path);
    expect(bytes.length).toBe(Number(expected));
    expect(bytes.equals(joined(written))).toBe(true);
  });

  it('puts bytes held for a second on disk before close, so a crash loses at most that second', async () => {
    const path = join(dir, 'slow.bin');
    const writable = (await openDirectFileWritable(path))!;
    const first = randomBytes(10_000); // two whole blocks and a tail
    await writable.write(first);
    await expect.poll(async () => (await readFile(path)).equals(first), { timeout: 5_000, interval: 100 }).toBe(true);
    // More bytes after the tail went out buffered: the tail's block is written again, direct, in the end.
    const second = randomBytes(3 * 4096 + 11);
    await writable.write(second);
    await expect.poll(async () => (await stat(path)).size, { timeout: 5_000, interval: 100 }).toBe(first.length + second.length);
    expect((await readFile(path)).equals(joined([first, second]))).toBe(true);
    const third = randomBytes(9 * 2 ** 20);
    await writable.write(third);
    await writable.close();
    expect((await readFile(path)).equals(joined([first, second, third]))).toBe(true);
  });

  it('copies big pieces out of a SharedArrayBuffer at any alignment (the bounce path) byte for byte', async () => {
    const path = join(dir, 'shared.bin');
    const writable = (await openDirectFileWritable(path))!;
    const ring = new Uint8Array(new SharedArrayBuffer(4 * 2 ** 20));
    ring.set(randomBytes(ring.byteLength));
    const parts = [ring.subarray(0, 5), ring.subarray(3, 3 + 300_000), ring.subarray(131, 131 + 2 ** 20), ring.subarray(8, 8 + 70_001), ring.subarray(1, 3 * 2 ** 20)];
    for (const part of parts) await writable.write(part);
    await writable.close();
    expect((await readFile(path)).equals(joined(parts.map((part) => new Uint8Array(part))))).toBe(true);
  });

  it('writes big pieces of shared memory it was told about from where they are, once padded as paddingFor says', async () => {
    const path = join(dir, 'in-place.bin');
    const ring = new Uint8Array(new SharedArrayBuffer(16 * 2 ** 20));
    ring.set(randomBytes(ring.byteLength));
    const later = new Uint8Array(new SharedArrayBuffer(8 * 2 ** 20));
    later.set(randomBytes(later.byteLength));
    const writable = (await openDirectFileWritable(path, { inPlace: [ring.buffer as SharedArrayBuffer, later.buffer as SharedArrayBuffer] }))!;
    const expected: Uint8Array[] = [];
    const put = async (pieces: Uint8Array[]) => {
      await writable.writev(pieces);
      for (const piece of pieces) expected.push(new Uint8Array(piece)); // a copy: the memory changes below
    };
    // Frames at awkward offsets in both buffers, each after a header of its own length, as a chunk would be.
    const frames = [ring.subarray(12_345, 12_345 + 3 * 2 ** 20 + 7), later.subarray(8, 8 + 2 ** 20), ring.subarray(5 * 2 ** 20 + 1, 9 * 2 ** 20), later.subarray(4097, 4097 + 5 * 2 ** 20)];
    for (const [index, frame] of frames.entries()) {
      const header = randomBytes(31 + index * 100);
      const padding = writable.paddingFor(frame, header.byteLength);
      expect(padding === 0 || (padding >= 9 && padding <= 4096 + 8)).toBe(true);
      await put([new Uint8Array(padding), header, frame, randomBytes(77)]);
    }
    expect(writable.piecesInPlace).toBe(frames.length);
    // A big piece that is not padded for its place is copied, whatever its memory (of two pieces 16 bytes
    // apart, at most one can be in place).
    const unpadded = [100, 116].map((offset) => ring.subarray(offset, offset + 2 ** 20)).find((piece) => writable.paddingFor(piece, 0) !== 0)!;
    await put([unpadded]);
    expect(writable.piecesInPlace).toBe(frames.length);
    // Once `whenWritten` resolves, the memory may change: the file keeps what was handed over.
    await writable.whenWritten();
    ring.fill(0);
    later.fill(0);
    await writable.close();
    const bytes = await readFile(path);
    expect(bytes.equals(joined(expected))).toBe(true);
  });

  it('adopts shared memory met after opening without touching what is written, and forgets it when told', async () => {
    const path = join(dir, 'adopted.bin');
    // A file of the user's that a fixed probe name would have taken: left alone.
    await writeFile(`${path}.probe`, 'mine');
    const writable = (await openDirectFileWritable(path))!;
    const expected: Uint8Array[] = [];
    const put = async (pieces: Uint8Array[]) => {
      await writable.writev(pieces);
      for (const piece of pieces) expected.push(new Uint8Array(piece));
    };
    // The file's first blocks are on disk before anything is adopted (two full stages, written when full):
    // the alignment probe must not land there.
    await put([randomBytes(17 * 2 ** 20 + 5)]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const frames = new Uint8Array(new SharedArrayBuffer(4 * 2 ** 20));
    frames.set(randomBytes(frames.byteLength));
    const frame = frames.subarray(64, 64 + 2 ** 20 + 3);
    expect(writable.paddingFor(frame, 40)).toBe(0); // not adopted yet: copied, no padding asked
    expect(await writable.adopt(frames.buffer as SharedArrayBuffer)).toBe(true);
    const padding = writable.paddingFor(frame, 40);
    await put([new Uint8Array(padding), randomBytes(40), frame, randomBytes(9)]);
    expect(writable.piecesInPlace).toBe(1);
    writable.forget(frames.buffer as SharedArrayBuffer);
    expect(writable.paddingFor(frame, 0)).toBe(0);
    await put([frame]);
    expect(writable.piecesInPlace).toBe(1);
    await writable.whenWritten();
    frames.fill(0);
    await writable.close();
    expect((await readFile(path)).equals(joined(expected))).toBe(true);
    // The probe's own file is gone; the user's is as it was.
    expect((await readdir(dir)).sort()).toEqual(['adopted.bin', 'adopted.bin.probe']);
    expect(await readFile(`${path}.probe`, 'utf8')).toBe('mine');
  });

  it('replaces an existing file, and an empty recording is an empty file', async () => {
    const path = join(dir, 'old.bin');
    const before = (await openDirectFileWritable(path))!;
    await before.write(randomBytes(50_000));
    await before.close();
    const after = (await openDirectFileWritable(path))!;
    await after.close();
    expect((await stat(path)).size).toBe(0);
  });
});
