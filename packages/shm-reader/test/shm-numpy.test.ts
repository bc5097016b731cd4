/**
 * numpy arrays that a real CPython + numpy process wrote into SharedMemory blocks: every scalar
 * kind, both byte orders, C and F order, unaligned offsets, structured dtypes (packed, aligned,
 * subarray, nested), on the fs path and the zero-copy path.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeAddonStatus, openSharedMemory, readRecord, viewNdArray, type RecordValue, type ShmAccess, type ShmNdArray } from '../src/shm/index.js';
import { findPythons, ShmPeer, tagValue, untag, type Plain, type Tagged } from './fixtures/shm/python-peer.js';

const withNumpy = findPythons().filter((p) => spawnSync(p.path, ['-c', 'import numpy'], { timeout: 60_000 }).status === 0);
if (withNumpy.length === 0) throw new Error('no CPython with numpy found: the numpy shared-memory tests need one');
const python = withNumpy[withNumpy.length - 1]!;
console.log(`[shm] numpy tests against CPython ${python.version}`);

interface Created {
  name: string;
  size: number;
  dtype_str: string;
  itemsize: number;
  strides: number[];
  offsets: Record<string, number> | null;
  descr: unknown[] | null;
  values: Tagged[];
}

function normalize(value: unknown): unknown {
  if (typeof value === 'bigint') return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  if (Array.isArray(value)) return value.map(normalize);
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'object' && value !== null) return Object.values(value as Record<string, RecordValue>).map(normalize);
  return value;
}

/** Typed-array contents → what numpy's tolist() gives for that kind. */
function elements(array: ShmNdArray): unknown[] {
  const data = array.data as ArrayLike<number | bigint>;
  const flat = Array.from(data);
  const { kind, itemSize } = array.dtype;
  const group = (size: number): (number | bigint)[][] => {
    const out: (number | bigint)[][] = [];
    for (let i = 0; i < flat.length; i += size) out.push(flat.slice(i, i + size));
    return out;
  };
  if (kind === 'b') return flat.map((v) => v !== 0);
  if (kind === 'c') return group(2);
  if (kind === 'S') {
    return group(itemSize).map((item) => {
      let end = item.length;
      while (end > 0 && item[end - 1] === 0) end--;
      return Uint8Array.from(item.slice(0, end) as number[]);
    });
  }
  if (kind === 'U') return group(itemSize / 4).map((item) => String.fromCodePoint(...(item.filter((c) => c !== 0) as number[])));
  return flat.map(normalize);
}

const SCALARS = ['<f4', '<f8', '>f8', '>f4', '<i8', '>i8', '|u1', '|i1', '<i2', '>u2', '<u4', '>i4', '<u8', '|b1', '<c8', '>c16', '<c16', '|S5', '<U3', '>U2', '<M8[ms]', '>m8[s]'];

describe(`numpy arrays in SharedMemory (CPython ${python.version})`, () => {
  let peer: ShmPeer;
  beforeAll(async () => {
    peer = await ShmPeer.start(python.path);
    expect(peer.numpy).toBe(true);
  });
  afterAll(async () => {
    await peer?.stop();
  });

  const create = (args: Record<string, unknown>): Promise<Created> => peer.call<Created>('create_array', args);

  for (const access of ['fs', 'mmap'] as ShmAccess[]) {
    it(`reads every scalar dtype, C order, aligned (${access})`, async () => {
      if (access === 'mmap') expect(nativeAddonStatus().loaded).toBe(true);
      for (const dtype of SCALARS) {
        const created = await create({ shape: [3, 4], dtype, order: 'C', offset: 16 });
        const block = openSharedMemory(created.name, { access });
        try {
          const array = viewNdArray(block, { shape: [3, 4], dtype, offset: 16 });
          expect(array.strides, dtype).toEqual(created.strides);
          expect(array.dtype.str, dtype).toBe(created.dtype_str);
          expect(elements(array), dtype).toEqual(untag(created.values));
          const native = !dtype.startsWith('>') || dtype.endsWith('1') || dtype.startsWith('|');
          expect(array.zeroCopy, dtype).toBe(access === 'mmap' && native);
        } finally {
          block.close();
        }
      }
    });

    it(`reads Fortran-ordered arrays in memory order with F strides (${access})`, async () => {
      for (const dtype of ['<f8', '>i4', '<c8']) {
        const created = await create({ shape: [2, 3, 4], dtype, order: 'F' });
        const block = openSharedMemory(created.name, { access });
        try {
          const array = viewNdArray(block, { shape: [2, 3, 4], dtype, order: 'F' });
          expect(array.order).toBe('F');
          expect(array.strides).toEqual(created.strides);
          expect(elements(array), dtype).toEqual(untag(created.values));
        } finally {
          block.close();
        }
      }
    });

    it(`copies when the offset is unaligned, zero-copy for 0-d and empty arrays (${access})`, async () => {
      const created = await create({ shape: [5], dtype: '<f8', offset: 3 });
      const block = openSharedMemory(created.name, { access });
      try {
        const array = viewNdArray(block, { shape: [5], dtype: '<f8', offset: 3 });
        expect(array.zeroCopy).toBe(false);
        expect(elements(array)).toEqual(untag(created.values));
        const bytes = viewNdArray(block, { shape: [5], dtype: '|u1', offset: 3 });
        expect(bytes.zeroCopy).toBe(access === 'mmap');
      } finally {
        block.close();
      }
      const scalar = await create({ shape: [], dtype: '<i8', offset: 8 });
      const scalarBlock = openSharedMemory(scalar.name, { access });
      expect(elements(viewNdArray(scalarBlock, { shape: [], dtype: '<i8', offset: 8 }))).toEqual(untag(scalar.values));
      expect(Array.from(viewNdArray(scalarBlock, { shape: [0, 4], dtype: '<f4' }).data as Float32Array)).toEqual([]);
      scalarBlock.close();
    });

    it(`reads structured dtypes: packed, aligned, subarray, big-endian and nested fields (${access})`, async () => {
      const cases: { dtype: unknown; align?: boolean }[] = [
        { dtype: [['x', '<f8'], ['y', '<i4']] },
        { dtype: [['x', '<f8'], ['y', '<i4']], align: true },
        { dtype: [['a', '|u1'], ['c', '<c8'], ['s', '|S3'], ['b', '>i2']], align: true },
        { dtype: [['frame', '<u4'], ['t', '<f8'], ['xy', '<f4', [2]], ['tag', '|S5']] },
        { dtype: [['m', '>f4', [2, 2]], ['u', '<U2'], ['ok', '|b1'], ['n', '>u8']] },
        { dtype: [['p', [['x', '<f4'], ['y', '>f4']]], ['id', '<i8']] },
      ];
      for (const { dtype, align } of cases) {
        const created = await create({ shape: [4], dtype, align, offset: 8 });
        const block = openSharedMemory(created.name, { access });
        try {
          // Describe it the way it travels: numpy's descr (explicit padding when aligned).
          const array = viewNdArray(block, { shape: [4], dtype: created.descr as never, offset: 8 });
          expect(array.dtype.itemSize).toBe(created.itemsize);
          expect(Object.fromEntries(array.fields!.map((f) => [f.name, f.offset]))).toEqual(created.offsets);
          expect(array.data).toBeInstanceOf(DataView);
          expect(array.zeroCopy).toBe(access === 'mmap');
          const records = [0, 1, 2, 3].map((i) => normalize(readRecord(array, i)));
          expect(records, JSON.stringify(dtype)).toEqual(untag(created.values));
          // Same result from the packed field list + align flag, as numpy's align=True computes it.
          if (align) {
            const again = viewNdArray(block, { shape: [4], dtype: dtype as never, offset: 8, dtypeOptions: { align: true } });
            expect(normalize(readRecord(again, 3))).toEqual((untag(created.values) as Plain[])[3]);
          }
        } finally {
          block.close();
        }
      }
    });
  }

  it('a zero-copy view follows Python writes; a copy stays a snapshot', async () => {
    const created = await create({ shape: [4, 4], dtype: '<f4' });
    const block = openSharedMemory(created.name, { access: 'mmap' });
    try {
      const live = viewNdArray(block, { shape: [4, 4], dtype: '<f4' });
      const snapshot = viewNdArray(block, { shape: [4, 4], dtype: '<f4' }, { copy: true });
      expect(live.zeroCopy).toBe(true);
      expect(snapshot.zeroCopy).toBe(false);
      await peer.call('set_array_flat', { name: created.name, index: 5, value: tagValue(1234.5) });
      expect((live.data as Float32Array)[5]).toBe(1234.5);
      expect((snapshot.data as Float32Array)[5]).toBe(-2.25);
    } finally {
      block.close();
    }
  });
});
