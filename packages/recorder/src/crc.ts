/**
 * CRC-32 (IEEE) of chunk data: Node's native `zlib.crc32` (Node ≥ 20.15; ~3× faster than JavaScript on a
 * 4 MiB frame, which matters when every image frame is a chunk), else `@foxglove/crc`, the one
 * `@mcap/core` uses. Same values. `crc32(b, crc32(a))` is the CRC of a followed by b, so a chunk written
 * in pieces (header records, then the frame the writer thread was handed) is checked without joining them.
 */
import * as zlib from 'node:zlib';
import { crc32Final, crc32Update } from '@foxglove/crc';

const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

export const crc32: (data: Uint8Array, previous?: number) => number =
  native === undefined ? (data, previous = 0) => crc32Final(crc32Update((previous ^ 0xffffffff) >>> 0, data)) : (data, previous = 0) => native(data, previous);
