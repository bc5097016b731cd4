import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { chunkCompressor, decompressHandlers } from '../src/compression.js';

/** `bytes` cut into uneven pieces, so the sample's three windows straddle piece boundaries. */
function cut(bytes: Uint8Array): Uint8Array[] {
  const sizes = [1, 40_000, 7, 100_001, 3];
  const pieces: Uint8Array[] = [];
  let offset = 0;
  for (let index = 0; offset < bytes.byteLength; index++) {
    const size = sizes[index % sizes.length] as number;
    pieces.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return pieces;
}

describe('chunkCompressor', () => {
  it('compresses a chunk given in pieces as the bytes they make together', async () => {
    const compress = (await chunkCompressor('zstd', 1))!;
    const { zstd } = await decompressHandlers();
    const bytes = new Uint8Array(600_000).map((_, index) => (index % 251) & 0xf0);
    const result = compress(cut(bytes), 0.5);
    expect(result?.compression).toBe('zstd');
    expect(Buffer.from(zstd(result!.compressedData, BigInt(bytes.byteLength))).equals(bytes)).toBe(true);
  });

  it('stores what would save too little: random bytes, and a chunk whose sampled start, middle and end are random', async () => {
    const compress = (await chunkCompressor('zstd', 1))!;
    expect(compress(cut(randomBytes(600_000)), 0.5)).toBeUndefined();
    // Zeros except the three 32 KiB windows the sample reads: the sample alone decides, and says store.
    const size = 600_000;
    const bytes = new Uint8Array(size);
    const window = 32 * 1024;
    const middle = Math.floor(size / 2 - window / 2);
    for (const start of [0, middle, size - window]) bytes.set(randomBytes(window), start);
    expect(compress(cut(bytes), 0.5)).toBeUndefined();
    // The same random bytes moved off the three windows: the whole chunk is tried (and compresses).
    bytes.fill(0);
    for (const start of [window, middle + 2 * window, middle + 4 * window]) bytes.set(randomBytes(window), start);
    expect(compress(cut(bytes), 0.5)?.compression).toBe('zstd');
  });
});
