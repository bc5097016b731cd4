/**
 * What recording an image stream costs the process, in one process, against a baseline measured in the
 * same run (`pnpm --filter @webmon/recorder bench:record-cpu`; BENCH_SECONDS per run, default 10; rounds
 * alternate the variants, BENCH_ROUNDS, default 2).
 *
 * A relay with no page open gets 1024² float32 frames at 30 Hz (as the demo's image ring: SharedArrayBuffers
 * the relay hands back, each filled from one of 8 precomputed images of Gaussian blobs over stripes, the
 * simulator's picture)
 * and a JSON topic at 60 Hz. CPU is the process's own (`process.cpuUsage`: every thread, the writer
 * threads included) per frame published. This is the tap → copy → writer thread → file path without
 * webmon's sources (`apps/webmon`'s bench:recording measures the whole app with the real simulator).
 *
 * Variants: nothing tapped (the baseline); the flight recorder (webmon's default, 256 MiB); the flight
 * recorder and a file (RawImage at the default 5 Hz, at every frame, none); a file alone; the file
 * variants again with the frames in Node Buffers (`in Buffers`: the writer copies them, in the same run);
 * the floor beside the flight recorder: each frame written in place with O_DIRECT and nothing else, with and
 * without its CRC-32 (`BENCH_VARIANTS=floor`).
 * `node --cpu-prof` on this script profiles every thread (a file per thread), the writer threads included.
 */
import { closeSync, constants as fsConstants, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, write as fsWrite } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McapIndexedReader } from '@mcap/core';
import { createRelay } from '@webmon/relay';
import { createFlightRecorder, recordToFile, type FileRecorder, type FlightRecorder } from '../src/index.js';
import { FileReadable } from '../src/reader/readable.js';
import { crc32 } from '../src/crc.js';
import { alignedMemory } from '../src/direct-file-writable.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 2);
const EDGE = Number(process.env['BENCH_IMAGE'] ?? 1024);
const HZ = 30;
const dir = mkdtempSync(join(tmpdir(), 'webmon-record-cpu-'));

/** The simulator's picture: moving Gaussian blobs over rotating stripes (float32, values 0 … ~1.2). */
function picture(phase: number): Float32Array {
  const image = new Float32Array(EDGE * EDGE);
  const blobs = [...Array(6).keys()].map((k) => ({ cx: 0.5 + 0.35 * Math.cos(phase + k), cy: 0.5 + 0.35 * Math.sin(1.3 * phase + k), s: 0.05 + 0.02 * k }));
  const kx = 12 * Math.cos(phase);
  const ky = 12 * Math.sin(phase);
  for (let row = 0; row < EDGE; row++) {
    const y = row / EDGE;
    for (let column = 0; column < EDGE; column++) {
      const x = column / EDGE;
      let value = 0.2 + 0.1 * Math.cos(ky * y + kx * x);
      for (const { cx, cy, s } of blobs) value += Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * s * s));
      image[row * EDGE + column] = value;
    }
  }
  return image;
}

/**
 * The producer reuses the buffers the relay hands back (`publishFrame`'s `release`), as webmon's ring
 * reader does. BENCH_NEW_FRAMES=1: a new buffer per frame instead (what webmon did before: the garbage
 * collector's cost of per-frame buffers).
 */
const NEW_FRAMES = process.env['BENCH_NEW_FRAMES'] === '1';
/**
 * Frames in SharedArrayBuffers, as webmon's ring reader makes them (`sharedMemory`): the writer thread
 * reads them where they are. The variants marked `buffers` have them in Node Buffers (copied into the
 * writer's ring, as any producer's frames that are not in shared memory).
 */
const handedBack: Float32Array[] = [];
const pictures = [...Array(8).keys()].map((index) => picture(index * 0.4));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Variant {
  name: string;
  flight: boolean;
  file: { rawImageHz: number } | undefined;
  buffers?: true;
  /**
   * The floor, beside the flight recorder: a tap that writes each frame's size with O_DIRECT (libuv's pool,
   * as the recorder) from one buffer the kernel takes as it is, nothing else — no MCAP, no thread, no
   * index, no copy; `crc` adds the CRC-32 of the frame that its chunk needs (on the event loop). What no
   * recorder of every frame can go below.
   */
  floor?: 'write' | 'crc+write';
}

const ALL_VARIANTS: Variant[] = [
  { name: 'nothing tapped', flight: false, file: undefined },
  { name: 'flight recorder (256 MiB)', flight: true, file: undefined },
  { name: 'flight + file, RawImage 5 Hz (default)', flight: true, file: { rawImageHz: 5 } },
  { name: 'flight + file, RawImage every frame', flight: true, file: { rawImageHz: Infinity } },
  { name: 'flight + file, no RawImage', flight: true, file: { rawImageHz: 0 } },
  { name: 'flight + file, RawImage 5 Hz, frames in Buffers', flight: true, file: { rawImageHz: 5 }, buffers: true },
  { name: 'flight + file, no RawImage, frames in Buffers', flight: true, file: { rawImageHz: 0 }, buffers: true },
  { name: 'file alone, RawImage 5 Hz', flight: false, file: { rawImageHz: 5 } },
  { name: 'floor: flight + bare O_DIRECT write of each frame', flight: true, file: undefined, floor: 'write' },
  { name: 'floor: flight + CRC-32 and bare O_DIRECT write of each frame', flight: true, file: undefined, floor: 'crc+write' },
];
/** BENCH_VARIANTS=a,b: only the variants whose names contain one of these (the first two are always run: the ratios need them). */
const only = process.env['BENCH_VARIANTS']?.split(',');
const VARIANTS = ALL_VARIANTS.filter((variant, index) => index < 2 || only === undefined || only.some((part) => variant.name.includes(part)));

interface Result {
  cpuMsPerFrame: number;
  /** The same, split: user time and system (kernel) time. */
  userMsPerFrame: number;
  systemMsPerFrame: number;
  frames: number;
  dropped: number;
  rawImagesPerSecond: number;
  bytesPerMinute: number;
  /** Frames the writer thread read where they were (shared memory) / copied into its ring. */
  shared: number;
  inRing: number;
  /** Frames copied into buffers the writer thread gave back / into new ones. */
  reused: number;
  allocated: number;
  /** Frame chunks stored / zstd-compressed. */
  stored: number;
  compressed: number;
}

async function chunkKinds(path: string): Promise<{ stored: number; compressed: number }> {
  // Through the index only: a 10 s file of stored frames passes 2 GiB (more than one Buffer holds).
  const handle = await open(path, 'r');
  const reader = await McapIndexedReader.Initialize({ readable: new FileReadable(handle, BigInt((await handle.stat()).size)) }).finally(() => handle.close());
  const big = reader.chunkIndexes.filter((chunk) => chunk.uncompressedSize > 1_000_000n);
  return { stored: big.filter((chunk) => chunk.compression === '').length, compressed: big.filter((chunk) => chunk.compression !== '').length };
}

/** CPU seconds of each of this process's threads by name (Linux /proc; V8's GC helpers, libuv's pool, the writer threads). */
function threadCpu(): Map<string, number> {
  const byName = new Map<string, number>();
  const ticks = 100;
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // Node names no thread (all are "node"): the main one is the process's id, the others are told apart by id.
      const name = tid === String(process.pid) ? 'main' : `${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))}#${tid}`;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      byName.set(name, (byName.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) / ticks);
    } catch {
      // the thread ended meanwhile
    }
  }
  return byName;
}
const SHOW_THREADS = process.env['BENCH_THREADS'] === '1';

/**
 * The floor's writer: a frame's size at the next offset, O_DIRECT, from one buffer at an address the kernel
 * accepts (`alignedMemory`, as the recorder's own direct writer finds it: frames in SharedArrayBuffers are
 * not aligned for O_DIRECT). The bytes written do not matter to the cost; the CRC is of the frame itself.
 */
async function bareWriter(path: string, crc: boolean): Promise<{ write(data: Uint8Array, done: () => void): void; close(): Promise<number> }> {
  const fd = openSync(path, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_TRUNC | fsConstants.O_DIRECT);
  const aligned = await alignedMemory(fd, EDGE * EDGE * 4);
  if (aligned === undefined) throw new Error('no offset of a Buffer that O_DIRECT takes');
  const source = aligned;
  let position = 0;
  let pending = 0;
  let failure: Error | undefined;
  return {
    write(data, done) {
      if (crc) checksum ^= crc32(data);
      pending++;
      fsWrite(fd, source, 0, data.byteLength, position, (error) => {
        pending--;
        failure ??= error ?? undefined;
        done();
      });
      position += data.byteLength;
    },
    async close() {
      while (pending > 0) await sleep(5);
      closeSync(fd);
      if (failure) throw new Error(`the floor's O_DIRECT write failed (memory or length not aligned?): ${failure.message}`);
      return position;
    },
  };
}
let checksum = 0;

async function run(variant: Variant, round: number): Promise<Result> {
  const relay = createRelay({ topics: [{ name: 'image', mode: 'latest', binary: true }, { name: 'frame_time', mode: 'latest' }] });
  const flight: FlightRecorder | undefined = variant.flight ? createFlightRecorder(relay) : undefined;
  const path = join(dir, `${round}-${variant.name.replace(/\W+/g, '-')}.mcap`);
  const file: FileRecorder | undefined = variant.file === undefined ? undefined : await recordToFile(relay, { path, rawImageHz: variant.file.rawImageHz });
  const floor = variant.floor === undefined ? undefined : await bareWriter(path, variant.floor === 'crc+write');
  const untapFloor = floor === undefined ? undefined : relay.tap({ frame: (_info, _header, _headerBytes, data, keep) => floor.write(data, keep()) });
  let frames = 0;
  let ticks = 0;
  const publishFor = async (ms: number): Promise<void> => {
    const started = performance.now();
    while (performance.now() - started < ms) {
      const due = started + (ticks + 1) * (1000 / (2 * HZ));
      await sleep(Math.max(0, due - performance.now()));
      ticks++;
      relay.publish('frame_time', { frame: ticks, delta_ms: 16.7 });
      if (ticks % 2 !== 0) continue;
      // A buffer handed back by the relay when there is one (as the ring reader's pool), else a new one.
      const source = pictures[frames % pictures.length] as Float32Array;
      const frame = (NEW_FRAMES ? undefined : handedBack.pop()) ?? new Float32Array(variant.buffers ? Buffer.allocUnsafeSlow(source.byteLength).buffer : new SharedArrayBuffer(source.byteLength));
      frame.set(source);
      relay.publishFrame('image', { dtype: 'float32', shape: [EDGE, EDGE] }, frame, NEW_FRAMES ? undefined : () => handedBack.length < 8 && handedBack.push(frame));
      frames++;
    }
  };
  await publishFor(2000); // warm-up: the flight recorder fills part of its budget, the threads start
  const framesBefore = frames;
  const cpuBefore = process.cpuUsage();
  const threadsBefore = SHOW_THREADS ? threadCpu() : new Map<string, number>();
  const started = performance.now();
  await publishFor(SECONDS * 1000);
  const cpu = process.cpuUsage(cpuBefore);
  if (SHOW_THREADS) {
    const byThread = [...threadCpu()].map(([name, seconds]) => [name, seconds - (threadsBefore.get(name) ?? 0)] as const).filter(([, seconds]) => seconds > 0).sort((a, b) => b[1] - a[1]);
    console.log(`${variant.name}, round ${round}: CPU ms per frame by thread: ${byThread.map(([name, seconds]) => `${name} ${((seconds * 1000) / (frames - framesBefore)).toFixed(2)}`).join(', ')}`);
  }
  const elapsed = (performance.now() - started) / 1000;
  const measured = frames - framesBefore;
  const result: Result = { cpuMsPerFrame: (cpu.user + cpu.system) / 1000 / measured, userMsPerFrame: cpu.user / 1000 / measured, systemMsPerFrame: cpu.system / 1000 / measured, frames: measured, dropped: 0, rawImagesPerSecond: 0, bytesPerMinute: 0, shared: 0, inRing: 0, reused: 0, allocated: 0, stored: 0, compressed: 0 };
  if (file !== undefined) {
    await file.close();
    const stats = file.stats();
    result.dropped = stats.droppedTotal;
    result.shared = stats.framesShared;
    result.inRing = stats.framesInRing;
    result.reused = stats.framesReused;
    result.allocated = stats.framesAllocated;
    result.rawImagesPerSecond = (file.counts().get('image/image') ?? 0) / (elapsed + 2);
    result.bytesPerMinute = (statSync(path).size / (elapsed + 2)) * 60;
    Object.assign(result, await chunkKinds(path));
    rmSync(path, { force: true });
  }
  untapFloor?.();
  if (floor !== undefined) {
    result.bytesPerMinute = ((await floor.close()) / (elapsed + 2)) * 60;
    rmSync(path, { force: true });
  }
  flight?.close();
  await relay.close();
  handedBack.length = 0;
  void elapsed;
  return result;
}

const results = new Map<string, Result[]>(VARIANTS.map((variant) => [variant.name, []]));
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of VARIANTS) results.get(variant.name)?.push(await run(variant, round));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const cpuOf = (name: string) => median((results.get(name) ?? []).map((result) => result.cpuMsPerFrame));
const base = cpuOf('nothing tapped');
const flightCpu = cpuOf('flight recorder (256 MiB)');
console.log(`\nrecording ${EDGE}² float32 at ${HZ} Hz + JSON at 60 Hz in one process, ${SECONDS} s × ${ROUNDS} rounds per variant (median); frames in ${NEW_FRAMES ? 'a new' : 'reused'} SharedArrayBuffer${NEW_FRAMES ? ' each' : 's handed back by the relay'} (unless "in Buffers")\n`);
console.log('| variant | CPU ms / frame | user / system | × nothing tapped | × flight recorder | dropped | RawImage/s | MiB on disk / min | frame chunks stored / zstd | frames read in place / copied to the ring / to returned / to new buffers |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const variant of VARIANTS) {
  const all = results.get(variant.name) ?? [];
  const last = all[all.length - 1] as Result;
  const cpu = cpuOf(variant.name);
  const fileColumns = variant.file === undefined ? '– | – | – | – | –' : `${all.reduce((sum, result) => sum + result.dropped, 0)} | ${last.rawImagesPerSecond.toFixed(1)} | ${(last.bytesPerMinute / 2 ** 20).toFixed(0)} | ${last.stored} / ${last.compressed} | ${last.shared} / ${last.inRing} / ${last.reused} / ${last.allocated}`;
  console.log(`| ${variant.name} | ${cpu.toFixed(2)} | ${median(all.map((result) => result.userMsPerFrame)).toFixed(2)} / ${median(all.map((result) => result.systemMsPerFrame)).toFixed(2)} | ${(cpu / base).toFixed(2)} | ${(cpu / flightCpu).toFixed(2)} | ${fileColumns} |`);
}
