/**
 * Chunk compression: zstd from `@foxglove/wasm-zstd` (Node 20 has no zstd of its own; the WASM build is
 * what Foxglove's own tools use and needs no native toolchain). Loaded once, on first use.
 */
import { createRequire } from 'node:module';

export type ChunkCompression = 'zstd' | 'none';
/**
 * A chunk's bytes (given in pieces, in order) compressed, or `undefined`: store them as they are.
 * `mustSave`: the share of the chunk zstd must save, else it is stored (default `COMPRESSION_MUST_SAVE`).
 */
export type CompressChunk = (pieces: readonly Uint8Array[], mustSave?: number) => { compression: 'zstd'; compressedData: Uint8Array } | undefined;

interface WasmZstd {
  isLoaded: Promise<boolean>;
  compress(buffer: Uint8Array, level?: number): Uint8Array;
  decompress(buffer: Uint8Array, size: number): Uint8Array;
}

let zstd: Promise<WasmZstd> | undefined;

/** The package is CommonJS with an ambient type declaration: loaded through `require`. */
function loadZstd(): Promise<WasmZstd> {
  zstd ??= (async () => {
    const module = createRequire(import.meta.url)('@foxglove/wasm-zstd') as WasmZstd;
    await module.isLoaded;
    return module;
  })();
  return zstd;
}

/** A chunk is stored as it is (MCAP compression "") when zstd would save less than this share of it. */
export const COMPRESSION_MUST_SAVE = 0.1;
/**
 * …and a chunk of one big message (an image frame, its RawImage copy) when zstd would save less than
 * half of it. zstd (WebAssembly, level 1) takes ~30–50 ms for a 4 MiB float32 frame here: a 30 Hz stream
 * would need a core for it, where storing costs a write. The demo's smooth float images save ~12 %, their
 * base64 RawImage copies ~27 %: not worth that much CPU. Frames that are mostly one value (masks, labels,
 * blank images) save far more than half and compress fast; they are still compressed.
 */
export const BULK_COMPRESSION_MUST_SAVE = 0.5;
/** Bytes of each of the three pieces a big chunk is tried on before all of it is compressed. */
const SAMPLE_PIECE_BYTES = 32 * 1024;

/**
 * The `compressChunk` of an `McapWriter`, or undefined for uncompressed chunks.
 *
 * Image frames of noisy float data hardly compress, and zstd on a 4 MiB chunk costs more than writing it:
 * a big chunk is first tried on three 32 KiB pieces (start, middle, end); when they save less than
 * `mustSave`, the chunk is stored uncompressed (MCAP allows "" per chunk; readers need no
 * handler for it). Chunks whose whole compression saves too little are stored uncompressed as well, so
 * readers do not pay a decompression for nothing.
 */
export async function chunkCompressor(compression: ChunkCompression, level: number): Promise<CompressChunk | undefined> {
  if (compression === 'none') return undefined;
  const module = await loadZstd();
  return (pieces, mustSave = COMPRESSION_MUST_SAVE) => {
    const size = pieces.reduce((sum, piece) => sum + piece.byteLength, 0);
    // Sampled from the pieces: a chunk the sample rules out is never joined into one buffer (for a frame,
    // a 4 MiB copy for nothing).
    if (size > 8 * SAMPLE_PIECE_BYTES) {
      const sample = new Uint8Array(3 * SAMPLE_PIECE_BYTES);
      const middle = Math.floor(size / 2 - SAMPLE_PIECE_BYTES / 2);
      copyRange(pieces, 0, sample, 0);
      copyRange(pieces, middle, sample, SAMPLE_PIECE_BYTES);
      copyRange(pieces, size - SAMPLE_PIECE_BYTES, sample, 2 * SAMPLE_PIECE_BYTES);
      if (module.compress(sample, level).byteLength > sample.byteLength * (1 - mustSave)) return undefined;
    }
    const chunk = pieces.length === 1 ? (pieces[0] as Uint8Array) : Buffer.concat(pieces, size);
    const compressed = module.compress(chunk, level);
    if (compressed.byteLength > size * (1 - mustSave)) return undefined;
    return { compression: 'zstd', compressedData: compressed };
  };
}

/** The bytes of `pieces` (one stream) from `from` on, as many as fit a SAMPLE_PIECE_BYTES piece of `target` at `at`. */
function copyRange(pieces: readonly Uint8Array[], from: number, target: Uint8Array, at: number): void {
  let skip = from;
  let written = 0;
  for (const piece of pieces) {
    if (written === SAMPLE_PIECE_BYTES) return;
    if (skip >= piece.byteLength) {
      skip -= piece.byteLength;
      continue;
    }
    const part = piece.subarray(skip, skip + SAMPLE_PIECE_BYTES - written);
    target.set(part, at + written);
    written += part.byteLength;
    skip = 0;
  }
}

/** Decompression handlers for `@mcap/core`'s readers (tests, and anyone reading a recording in Node). */
export async function decompressHandlers(): Promise<{ zstd: (data: Uint8Array, size: bigint) => Uint8Array }> {
  const module = await loadZstd();
  return { zstd: (data, size) => module.decompress(data, Number(size)) };
}
