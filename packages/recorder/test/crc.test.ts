import { randomBytes } from 'node:crypto';
import { crc32 as crc32Js } from '@foxglove/crc';
import { expect, it } from 'vitest';
import { crc32 } from '../src/crc.js';

it('gives the CRC-32 @mcap/core checks (its @foxglove/crc), whole or continued over pieces', () => {
  const data = randomBytes((1 << 20) + 13);
  const whole = crc32Js(data);
  expect(crc32(data)).toBe(whole);
  // Pieces as a frame chunk is written: records, a message header, the frame.
  const pieces = [data.subarray(0, 100), data.subarray(100, 131), data.subarray(131)];
  expect(pieces.reduce((crc, piece) => crc32(piece, crc), 0)).toBe(whole);
  expect(crc32(new Uint8Array(0))).toBe(0);
  expect(crc32(new Uint8Array(0), whole)).toBe(whole);
});
