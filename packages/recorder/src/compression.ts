/**
 * Chunk compression: zstd from `@foxglove/wasm-zstd` (Node 20 has no zstd of its own; the WASM build is
 * what Foxglove's own tools use and needs no native toolchain). Loaded once, on first use.
 */
import { createRequire } from 'node:module';

export type ChunkCompression = 'zstd' | 'none';
export type CompressChunk = (chunk: Uint8Array) => { compression: string; compressedData: Uint8Array };

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

/** The `compressChunk` of an `McapWriter`, or undefined for uncompressed chunks. */
export async function chunkCompressor(compression: ChunkCompression, level: number): Promise<CompressChunk | undefined> {
  if (compression === 'none') return undefined;
  const module = await loadZstd();
  return (chunk) => ({ compression: 'zstd', compressedData: module.compress(chunk, level) });
}

/** Decompression handlers for `@mcap/core`'s readers (tests, and anyone reading a recording in Node). */
export async function decompressHandlers(): Promise<{ zstd: (data: Uint8Array, size: bigint) => Uint8Array }> {
  const module = await loadZstd();
  return { zstd: (data, size) => module.decompress(data, Number(size)) };
}
