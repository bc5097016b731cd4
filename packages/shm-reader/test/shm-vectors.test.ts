/**
 * Decoding from buffers: the pre-dumped CPython blocks (copied from the reference vectors into
 * test/fixtures/shm/), layout detection, bad input, and dtype parsing against numpy's own offsets.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ShmReaderError } from '../src/errors.js';
import {
  decodeShareableList,
  parseDType,
  parseShareableListLayout,
  readRecord,
  readShareableList,
  specFromArrayInterface,
  viewNdArray,
} from '../src/shm/index.js';
import { SHM_FIXTURES } from './fixtures/shm/python-peer.js';

const bin = (file: string): Uint8Array => new Uint8Array(readFileSync(join(SHM_FIXTURES, file)));
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

interface VectorIndex {
  blocks: {
    file: string;
    size: number;
    layout?: { variant: string; n: number; allocated_offsets: number[]; data_start: number; formats_at: number; codes_at: number; total: number; slots: { format: string; code: number; abs_offset: number; capacity: number }[] };
    aligned_variant?: { descr: [string, string][]; offsets: Record<string, number>; itemsize: number };
    fields?: Record<string, { offset: number }>;
    itemsize?: number;
    dtype_descr?: unknown[];
    array_interface?: { typestr: string; descr: unknown[]; shape: number[]; strides: null };
  }[];
}
const index = JSON.parse(readFileSync(join(SHM_FIXTURES, 'vectors-index.json'), 'utf8')) as VectorIndex;

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof ShmReaderError) return error.code;
    throw error;
  }
  throw new Error('expected a ShmReaderError');
}

describe('ShareableList dumps (CPython 3.11 and 3.8)', () => {
  it('decodes every value type of sl_example.bin', () => {
    expect(decodeShareableList(bin('sl_example.bin'))).toEqual([42, -1, 3.5, true, false, null, 'héllo', bytes('by'), '', 'exactly8']);
  });

  it('follows retyped slots in sl_example_after_setitem.bin', () => {
    expect(decodeShareableList(bin('sl_example_after_setitem.bin'))).toEqual(['ab', -1, 3.5, true, false, 7, 'hi', bytes('by'), '', 'exactly8']);
  });

  it('detects and decodes the CPython 3.8 header (sl_example_py38.bin)', () => {
    const reader = readShareableList(bin('sl_example_py38.bin'));
    expect(reader.layout.variant).toBe('3.8');
    expect(reader.toArray()).toEqual([42, 3.5, true, null, 'héllo', bytes('by')]);
    expect([0, 1, 2, 3, 4, 5].map((i) => reader.get(i))).toEqual(reader.toArray());
  });

  it('decodes the napari MonitorService block before and after a poll', () => {
    const pad = '{}' + ' '.repeat(64);
    expect(decodeShareableList(bin('sl_napari_initial.bin'))).toEqual([0, pad, pad]);
    const after = decodeShareableList(bin('sl_napari_after_poll.bin'));
    expect(after[0]).toBe(1);
    expect(JSON.parse(after[1] as string)).toEqual({ frame: 1, poll: { x: 1 } });
  });

  it('reproduces the reference layouts exactly (offsets, formats, codes, capacities)', () => {
    const listed = index.blocks.filter((block) => block.layout);
    expect(listed.length).toBe(5);
    for (const block of listed) {
      const expected = block.layout!;
      const reader = readShareableList(bin(block.file));
      const layout = reader.layout;
      expect(layout.variant, block.file).toBe(expected.variant);
      expect(layout.length).toBe(expected.n);
      expect(layout.offsets).toEqual(expected.allocated_offsets);
      expect(layout.dataStart).toBe(expected.data_start);
      expect(layout.formatsAt).toBe(expected.formats_at);
      expect(layout.codesAt).toBe(expected.codes_at);
      expect(layout.total).toBe(expected.total);
      expect(layout.total).toBe(block.size);
      expected.slots.forEach((slot, i) => {
        expect(reader.slot(i)).toEqual({ index: i, format: slot.format, code: slot.code, offset: slot.abs_offset, capacity: slot.capacity });
      });
    }
  });

  it('supports negative indices and rejects out-of-range ones', () => {
    const reader = readShareableList(bin('sl_example.bin'));
    expect(reader.get(-1)).toBe('exactly8');
    expect(codeOf(() => reader.get(10))).toBe('SHM_READER_OUT_OF_RANGE');
    expect(codeOf(() => reader.get(1.5))).toBe('SHM_READER_OUT_OF_RANGE');
  });

  it('decodes int64 beyond 2^53 as bigint', () => {
    const block = bin('sl_example.bin').slice();
    new DataView(block.buffer).setBigInt64(96, -(2n ** 62n), true);
    expect(decodeShareableList(block)[0]).toBe(-(2n ** 62n));
  });

  it('drops only a partial trailing character of a str cut by CPython\'s character-counted capacity', () => {
    // 'a' + 'é'*4 is 9 UTF-8 bytes in an 8-byte slot: CPython keeps 'aééé' + half an 'é'.
    const block = bin('sl_example.bin').slice();
    block.set([0x61, 0xc3, 0xa9, 0xc3, 0xa9, 0xc3, 0xa9, 0xc3], 144);
    expect(decodeShareableList(block)[6]).toBe('aééé');
  });

  it('reports invalid UTF-8 inside a str slot as SHM_LAYOUT, not as a torn read', () => {
    const block = bin('sl_example.bin').slice();
    block.set([0x61, 0xff, 0x62], 144);
    expect(codeOf(() => readShareableList(block, { maxRetries: 2 }).get(6))).toBe('SHM_READER_LAYOUT');
  });
});

describe('layout detection on bad input', () => {
  it('rejects blocks that are not ShareableLists with SHM_LAYOUT', () => {
    expect(codeOf(() => decodeShareableList(new Uint8Array(4)))).toBe('SHM_READER_LAYOUT');
    const huge = new Uint8Array(64);
    new DataView(huge.buffer).setBigInt64(0, 1000n, true);
    expect(codeOf(() => decodeShareableList(huge))).toBe('SHM_READER_LAYOUT');
    const negative = new Uint8Array(64);
    new DataView(negative.buffer).setBigInt64(0, -1n, true);
    expect(codeOf(() => decodeShareableList(negative))).toBe('SHM_READER_LAYOUT');
    const random = Uint8Array.from({ length: 274 }, (_, i) => (i * 151 + 7) & 0xff);
    expect(codeOf(() => decodeShareableList(random))).toBe('SHM_READER_LAYOUT');
  });

  it('rejects a truncated dump and a corrupted format table', () => {
    expect(codeOf(() => decodeShareableList(bin('sl_example.bin').subarray(0, 270)))).toBe('SHM_READER_LAYOUT');
    const badFormat = bin('sl_example.bin').slice();
    badFormat[184] = 0x7a; // 'z'
    expect(codeOf(() => parseShareableListLayout(badFormat))).toBe('SHM_READER_LAYOUT');
    const badCode = bin('sl_example.bin').slice();
    badCode[264] = 9;
    expect(codeOf(() => parseShareableListLayout(badCode))).toBe('SHM_READER_LAYOUT');
    const badOffsets = bin('sl_example.bin').slice();
    badOffsets[16] = 3; // alloc[1] = 3: not a multiple of 8
    expect(codeOf(() => parseShareableListLayout(badOffsets))).toBe('SHM_READER_LAYOUT');
  });

  it('accepts an empty list in both layouts', () => {
    expect(decodeShareableList(new Uint8Array(16))).toEqual([]);
    expect(decodeShareableList(new Uint8Array(8))).toEqual([]);
  });
});

describe('numpy structured dump (recarray.bin)', () => {
  const entry = index.blocks.find((block) => block.file === 'recarray.bin')!;
  const expected = [0, 1, 2].map((i) => ({ frame: i, t: i / 4, xy: [i, i === 0 ? 0 : -i], tag: bytes(`r${i}`) }));

  it('reads packed records from the descr list, including the unaligned f8', () => {
    const array = viewNdArray(bin('recarray.bin'), { shape: [3], dtype: entry.dtype_descr as never });
    expect(array.dtype.itemSize).toBe(entry.itemsize);
    expect(Object.fromEntries(array.fields!.map((f) => [f.name, f.offset]))).toEqual(
      Object.fromEntries(Object.entries(entry.fields!).map(([name, f]) => [name, f.offset])),
    );
    expect(array.zeroCopy).toBe(true);
    expect(array.data).toBeInstanceOf(DataView);
    expect([0, 1, 2].map((i) => readRecord(array, i))).toEqual(expected);
  });

  it('reads it from __array_interface__ too', () => {
    const spec = specFromArrayInterface(entry.array_interface as never);
    const array = viewNdArray(bin('recarray.bin'), spec);
    expect(readRecord(array, 2)).toEqual(expected[2]);
    expect(codeOf(() => readRecord(array, 3))).toBe('SHM_READER_OUT_OF_RANGE');
  });

  it('reports a description larger than the block as SHM_OUT_OF_RANGE', () => {
    expect(codeOf(() => viewNdArray(bin('recarray.bin'), { shape: [4], dtype: entry.dtype_descr as never }))).toBe('SHM_READER_OUT_OF_RANGE');
  });
});

describe('dtype descriptions', () => {
  it('computes aligned offsets like numpy align=True', () => {
    const aligned = index.blocks.find((block) => block.aligned_variant)!.aligned_variant!;
    // From numpy's descr (explicit padding) ...
    const fromDescr = parseDType(aligned.descr);
    expect(fromDescr.itemSize).toBe(aligned.itemsize);
    expect(Object.fromEntries(fromDescr.fields!.map((f) => [f.name, f.offset]))).toEqual(aligned.offsets);
    // ... and from the packed field list with align (numpy: a 0, b 8, itemsize 16).
    const computed = parseDType([['a', '|u1'], ['b', '<f8']], { align: true });
    expect(computed.fields!.map((f) => f.offset)).toEqual([0, 8]);
    expect(computed.itemSize).toBe(16);
    // numpy: [('a','u1'),('c','<c8'),('s','S3'),('b','<i2')] aligned → 0, 4, 12, 16; itemsize 20; packed 0,1,9,12 / 14
    const mixed = [['a', '|u1'], ['c', '<c8'], ['s', '|S3'], ['b', '<i2']] as const;
    const a = parseDType(mixed, { align: true });
    expect(a.fields!.map((f) => f.offset)).toEqual([0, 4, 12, 16]);
    expect(a.itemSize).toBe(20);
    const p = parseDType(mixed);
    expect(p.fields!.map((f) => f.offset)).toEqual([0, 1, 9, 12]);
    expect(p.itemSize).toBe(14);
    const dict = parseDType({ names: ['x', 'y'], formats: ['<f8', '<i4'], aligned: true });
    expect(dict.itemSize).toBe(16);
    expect(parseDType({ names: ['x', 'y'], formats: ['<f8', '<i4'], offsets: [4, 0], itemsize: 12 }).fields!.map((f) => f.offset)).toEqual([4, 0]);
  });

  it('parses typestrs and names', () => {
    expect(parseDType('<f4')).toMatchObject({ kind: 'f', byteOrder: '<', itemSize: 4, str: '<f4' });
    expect(parseDType('>i8')).toMatchObject({ kind: 'i', byteOrder: '>', itemSize: 8 });
    expect(parseDType('|u1')).toMatchObject({ kind: 'u', byteOrder: '|', itemSize: 1 });
    expect(parseDType('<c8')).toMatchObject({ kind: 'c', itemSize: 8, alignment: 4 });
    expect(parseDType('<U3')).toMatchObject({ kind: 'U', itemSize: 12, str: '<U3' });
    expect(parseDType('<M8[ms]')).toMatchObject({ kind: 'M', itemSize: 8, unit: 'ms' });
    expect(parseDType('float32')).toMatchObject({ kind: 'f', itemSize: 4 });
  });

  it('rejects what cannot be read from shared memory with SHM_BAD_DTYPE', () => {
    for (const bad of ['|O8', '<f3', 'float128x', '<M8', '', 'i', '<c32']) {
      expect(codeOf(() => parseDType(bad)), bad).toBe('SHM_READER_BAD_DTYPE');
    }
    expect(codeOf(() => parseDType([]))).toBe('SHM_READER_BAD_DTYPE');
    expect(codeOf(() => parseDType([['x', '<f8'], ['x', '<f8']]))).toBe('SHM_READER_BAD_DTYPE');
    expect(codeOf(() => viewNdArray(new Uint8Array(8), { shape: [-1], dtype: '<f8' }))).toBe('SHM_READER_BAD_DTYPE');
  });

  it('copies and byte-swaps big-endian and unaligned data from a buffer', () => {
    const raw = new Uint8Array(17);
    const view = new DataView(raw.buffer);
    view.setFloat64(1, 1.5, false);
    view.setFloat64(9, -2.25, false);
    const big = viewNdArray(raw, { shape: [2], dtype: '>f8', offset: 1 });
    expect(big.zeroCopy).toBe(false);
    expect(Array.from(big.data as Float64Array)).toEqual([1.5, -2.25]);
    view.setFloat64(1, 3.5, true);
    const unaligned = viewNdArray(raw, { shape: [1], dtype: '<f8', offset: 1 });
    expect(unaligned.zeroCopy).toBe(false);
    expect(Array.from(unaligned.data as Float64Array)).toEqual([3.5]);
  });
});
