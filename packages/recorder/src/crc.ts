/**
 * CRC-32 (IEEE) of chunk data. Every image frame is a chunk of its own, so this runs over every byte
 * recorded: `@node-rs/crc32` (native SIMD, prebuilt for the common platforms; ≈ 0.4 ms for 4 MiB on
 * the machine this was built on) when it loads, else Node's `zlib.crc32` (Node ≥ 20.15; ≈ 1–1.4 ms),
 * else `@foxglove/crc`, the one `@mcap/core` uses. Same values. `crc32(b, crc32(a))` is the CRC of a
 * followed by b, so a chunk written in pieces (header records, then the frame the writer thread was
 * handed) is checked without joining them.
 */
import { createRequire } from 'node:module';
import * as zlib from 'node:zlib';
import { crc32Final, crc32Update } from '@foxglove/crc';

type Crc32 = (data: Uint8Array, previous?: number) => number;

function simd(): Crc32 | undefined {
  try {
    // CommonJS with a native addon per platform (optional dependencies): a platform without one throws here.
    const module = createRequire(import.meta.url)('@node-rs/crc32') as { crc32(input: Uint8Array, initialState?: number): number };
    return (data, previous = 0) => module.crc32(data, previous);
  } catch {
    return undefined;
  }
}

const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

export const crc32: Crc32 =
  simd() ?? (native === undefined ? (data, previous = 0) => crc32Final(crc32Update((previous ^ 0xffffffff) >>> 0, data)) : (data, previous = 0) => native(data, previous));
