/**
 * Shared memory → Float32Array: a float32 array that CPython writes into a SharedMemory block,
 * read by Node through the fs path (pread into a caller's buffer) and the zero-copy path (mmap
 * addon), against the bound measured in the same run: a plain in-memory copy of the same size
 * (`Float32Array.prototype.set`). Sizes 1, 16 and 64 MiB show that the zero-copy path does not
 * grow with size.
 *
 *   tsx bench/shm.bench.ts            (WEBMON_BENCH_MS=<ms per measurement>, default 300;
 *                                      WEBMON_SHM_BENCH_SIZES_MIB=1,16,64)
 */
import { spawnSync } from 'node:child_process';
import { nativeAddonStatus, openSharedMemory, viewNdArray, type SharedMemoryBlock } from '../src/shm/index.js';
import { findPythons, ShmPeer } from '../test/fixtures/shm/python-peer.js';

const BUDGET_MS = Number(process.env['WEBMON_BENCH_MS'] ?? 300);
const SIZES_MIB = (process.env['WEBMON_SHM_BENCH_SIZES_MIB'] ?? '1,16,64').split(',').map(Number);
const MIB = 1 << 20;

interface Measure {
  perCallNs: number;
  gbps: number;
}

/** Runs `fn` repeatedly for about BUDGET_MS (at least 3 times, after one warm-up) and returns the median. */
function measure(bytes: number, fn: () => void): Measure {
  fn();
  const samples: number[] = [];
  const end = performance.now() + BUDGET_MS;
  while (samples.length < 3 || (performance.now() < end && samples.length < 100_000)) {
    const t0 = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - t0));
  }
  samples.sort((a, b) => a - b);
  const ns = samples[Math.floor(samples.length / 2)]!;
  return { perCallNs: ns, gbps: bytes / ns };
}

function fmtTime(ns: number): string {
  if (ns < 1e3) return `${ns.toFixed(0)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(1)} µs`;
  return `${(ns / 1e6).toFixed(2)} ms`;
}

const pythons = findPythons();
const withNumpy = pythons.filter((p) => spawnSync(p.path, ['-c', 'import numpy'], { timeout: 60_000 }).status === 0);
const python = withNumpy[withNumpy.length - 1] ?? pythons[pythons.length - 1]!;
const peer = await ShmPeer.start(python.path);
const native = nativeAddonStatus();
console.log(`# shm.bench: float32 array in a Python SharedMemory block → Float32Array`);
console.log(`python ${peer.python} (${peer.numpy ? 'numpy fills the array' : 'no numpy: zero-filled block'}), node ${process.version}`);
console.log(`zero-copy addon: ${native.loaded ? `loaded (${native.path})` : `unavailable (${native.reason})`}; ${BUDGET_MS} ms per measurement, median per call\n`);

const rows: string[][] = [['size', 'memcpy (bound)', 'fs pread', 'fs / bound', 'zero-copy view', 'zero-copy / bound', 'mmap memcpy']];
const zeroCopyTimes: number[] = [];
const blocks: SharedMemoryBlock[] = [];
try {
  for (const mib of SIZES_MIB) {
    const bytes = mib * MIB;
    const count = bytes / 4;
    const created = peer.numpy
      ? await peer.call<{ name: string }>('create_array', { shape: [count], dtype: '<f4', values: false })
      : await peer.call<{ name: string }>('create_block', { size: bytes });
    const spec = { shape: [count], dtype: '<f4' } as const;

    const fsBlock = openSharedMemory(created.name, { access: 'fs' });
    blocks.push(fsBlock);
    const target = new Float32Array(count);
    const targetBytes = new Uint8Array(target.buffer);
    const fs = measure(bytes, () => fsBlock.readInto(targetBytes, 0));

    // The bound: the same number of bytes copied between two ordinary JS arrays.
    const source = target.slice();
    const sink = new Float32Array(count);
    const bound = measure(bytes, () => sink.set(source));

    let zero: Measure | null = null;
    let mmapCopy: Measure | null = null;
    if (native.loaded) {
      const mapped = openSharedMemory(created.name, { access: 'mmap' });
      blocks.push(mapped);
      let checksum = 0;
      zero = measure(bytes, () => {
        const array = viewNdArray(mapped, spec);
        checksum += (array.data as Float32Array)[count - 1]!; // touch it so nothing is elided
      });
      mmapCopy = measure(bytes, () => mapped.readInto(targetBytes, 0));
      const view = viewNdArray(mapped, spec).data as Float32Array;
      if (view[count - 1] !== target[count - 1] || !Number.isFinite(checksum)) throw new Error('zero-copy view disagrees with the fs read');
      zeroCopyTimes.push(zero.perCallNs);
    }
    rows.push([
      `${mib} MiB`,
      `${bound.gbps.toFixed(2)} GB/s (${fmtTime(bound.perCallNs)})`,
      `${fs.gbps.toFixed(2)} GB/s (${fmtTime(fs.perCallNs)})`,
      `${(fs.gbps / bound.gbps).toFixed(2)}×`,
      zero ? `${fmtTime(zero.perCallNs)} (≙ ${zero.gbps.toFixed(0)} GB/s)` : 'n/a',
      zero ? `${(zero.gbps / bound.gbps).toFixed(0)}×` : 'n/a',
      mmapCopy ? `${mmapCopy.gbps.toFixed(2)} GB/s` : 'n/a',
    ]);
    await peer.call('unlink', { name: created.name });
  }
} finally {
  for (const block of blocks) block.close();
  await peer.stop();
}

const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
for (const row of rows) console.log(row.map((cell, col) => cell.padEnd(widths[col]!)).join('  '));
if (zeroCopyTimes.length > 1) {
  const first = zeroCopyTimes[0]!;
  const last = zeroCopyTimes[zeroCopyTimes.length - 1]!;
  console.log(
    `\nzero-copy view time ${SIZES_MIB[SIZES_MIB.length - 1]} MiB vs ${SIZES_MIB[0]} MiB: ${(last / first).toFixed(2)}× ` +
      `(size grew ${(SIZES_MIB[SIZES_MIB.length - 1]! / SIZES_MIB[0]!).toFixed(0)}×; constant means no copy)`,
  );
}
console.log('GB/s = 1e9 bytes per second. "zero-copy view" builds a live Float32Array over the mapping: its GB/s is size / time, not bytes moved.');
