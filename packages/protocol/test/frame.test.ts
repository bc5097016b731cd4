import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  DTYPE_ITEM_SIZE,
  decodeFrame,
  encodeFrame,
  encodeFrameHeader,
  isFrame,
  type NumericDType,
} from '../src/index.js';
import { codeOf } from './helpers.js';


const base = { topic: 'image', seq: 3, time: 1_700_000_000_123.5 };

function sampleData(dtype: NumericDType, count: number): ArrayBufferView {
  const bytes = new Uint8Array(count * DTYPE_ITEM_SIZE[dtype]);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 37 + 11) & 0xff;
  return bytes;
}

describe('binary frame codec', () => {
  const dtypes = Object.keys(DTYPE_ITEM_SIZE) as NumericDType[];

  it.each(dtypes)('round-trips %s zero-copy with the right view', (dtype) => {
    const data = sampleData(dtype, 6);
    const frame = encodeFrame({ ...base, dtype, shape: [2, 3] }, data);
    expect((frame.byteLength - data.byteLength) % 8).toBe(0); // data starts 8-aligned
    const decoded = decodeFrame(frame.buffer as ArrayBuffer);
    expect(decoded.zeroCopy).toBe(true);
    expect(decoded).toMatchObject({ ...base, dtype, shape: [2, 3], byteLength: data.byteLength });
    const view = decoded.data as ArrayBufferView;
    expect(new Uint8Array(view.buffer, view.byteOffset, view.byteLength)).toEqual(new Uint8Array(data.buffer));
    expect(view.buffer).toBe(frame.buffer);
  });

  it('gives values, not just bytes, for float32 and int64', () => {
    const floats = Float32Array.from([1.5, -2, 3.25, Number.NaN]);
    const decoded = decodeFrame(encodeFrame({ ...base, dtype: 'float32', shape: [2, 2] }, floats));
    expect(Array.from(decoded.data as Float32Array)).toEqual([1.5, -2, 3.25, Number.NaN]);
    const ints = BigInt64Array.from([-(2n ** 62n), 5n]);
    expect(Array.from(decodeFrame(encodeFrame({ ...base, dtype: 'int64', shape: [2] }, ints)).data as BigInt64Array)).toEqual([-(2n ** 62n), 5n]);
  });

  it('copies when the input is unaligned (pooled Node buffers) and still decodes', () => {
    const frame = encodeFrame({ ...base, dtype: 'float64', shape: [3] }, Float64Array.from([1, 2, 3]));
    const shifted = new Uint8Array(frame.length + 3);
    shifted.set(frame, 3);
    const decoded = decodeFrame(shifted.subarray(3));
    expect(decoded.zeroCopy).toBe(false);
    expect(Array.from(decoded.data as Float64Array)).toEqual([1, 2, 3]);
  });

  it('carries structured records as a DataView with a field table', () => {
    const itemSize = 16;
    const data = new DataView(new ArrayBuffer(itemSize * 2));
    data.setFloat64(0, 1.25, true);
    data.setInt32(8, -7, true);
    data.setFloat64(16, 2.5, true);
    data.setInt32(24, 9, true);
    const fields = [
      { name: 'x', dtype: 'float64' as const, offset: 0 },
      { name: 'n', dtype: 'int32' as const, offset: 8 },
    ];
    const decoded = decodeFrame(encodeFrame({ ...base, dtype: 'record', shape: [2], itemSize, fields }, data));
    expect(decoded.fields).toEqual(fields);
    const view = decoded.data as DataView;
    expect(view.getFloat64(16, true)).toBe(2.5);
    expect(view.getInt32(8, true)).toBe(-7);
  });

  it('keeps metadata and Fortran order', () => {
    const decoded = decodeFrame(
      encodeFrame({ ...base, dtype: 'uint8', shape: [2, 2], order: 'F', meta: { contrast: [0, 255] } }, new Uint8Array(4)),
    );
    expect(decoded.order).toBe('F');
    expect(decoded.meta).toEqual({ contrast: [0, 255] });
  });

  it('decodes a frame written by Python with only the standard library', () => {
    const python = String.raw`
import json, struct, sys
data = struct.pack('<4f', 0.5, 1.5, -2.0, 8.0)
header = json.dumps({"topic": "py", "seq": 1, "time": 1000.0, "dtype": "float32", "shape": [2, 2], "byteLength": len(data)}).encode()
header += b" " * ((-(8 + len(header))) % 8)
sys.stdout.buffer.write(b"WMF\x01" + struct.pack("<I", len(header)) + header + data)
`;
    const bytes = execFileSync('python3', ['-c', python]);
    const decoded = decodeFrame(bytes);
    expect(decoded.topic).toBe('py');
    expect(Array.from(decoded.data as Float32Array)).toEqual([0.5, 1.5, -2, 8]);
  });

  it.each([
    ['too short', () => new Uint8Array(5), 'PROTOCOL_FRAME_TRUNCATED'],
    ['bad magic', () => new Uint8Array(64).fill(1), 'PROTOCOL_FRAME_MALFORMED'],
    ['future version', () => { const f = encodeFrame({ ...base, dtype: 'uint8', shape: [1] }, new Uint8Array(1)); f[3] = 9; return f; }, 'PROTOCOL_FRAME_UNSUPPORTED_VERSION'],
    ['header longer than the frame', () => encodeFrameHeader({ ...base, dtype: 'uint8', shape: [1] }, 1).subarray(0, 12), 'PROTOCOL_FRAME_TRUNCATED'],
    ['data shorter than byteLength', () => encodeFrame({ ...base, dtype: 'float32', shape: [4] }, new Float32Array(4)).subarray(0, -4), 'PROTOCOL_FRAME_TRUNCATED'],
    ['trailing bytes', () => { const f = encodeFrame({ ...base, dtype: 'uint8', shape: [8] }, new Uint8Array(8)); const g = new Uint8Array(f.length + 8); g.set(f); return g; }, 'PROTOCOL_FRAME_MALFORMED'],
    ['a 4 GiB header length', () => { const f = encodeFrame({ ...base, dtype: 'uint8', shape: [1] }, new Uint8Array(1)); new DataView(f.buffer).setUint32(4, 0xffffffff, true); return f; }, 'PROTOCOL_FRAME_TOO_LARGE'],
  ])('rejects %s', (_name, make, code) => {
    expect(codeOf(() => decodeFrame(make()))).toBe(code);
  });

  it('rejects data above the caller limit before touching it', () => {
    const frame = encodeFrame({ ...base, dtype: 'uint8', shape: [1024] }, new Uint8Array(1024));
    expect(codeOf(() => decodeFrame(frame, { maxDataBytes: 1000 }))).toBe('PROTOCOL_FRAME_TOO_LARGE');
  });

  it('refuses to encode data that does not match the shape', () => {
    expect(codeOf(() => encodeFrame({ ...base, dtype: 'float32', shape: [3] }, new Float32Array(4)))).toBe('PROTOCOL_UNENCODABLE');
    expect(codeOf(() => encodeFrame({ ...base, dtype: 'record', shape: [1] }, new Uint8Array(4)))).toBe('PROTOCOL_UNENCODABLE');
  });

  it('tells frames from other bytes', () => {
    expect(isFrame(encodeFrame({ ...base, dtype: 'uint8', shape: [0] }, new Uint8Array(0)))).toBe(true);
    expect(isFrame(new TextEncoder().encode('{"type":"data"}'))).toBe(false);
  });
});
