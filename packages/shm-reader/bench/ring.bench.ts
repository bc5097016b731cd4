/**
 * Bulk arrays from Python to Node, side by side in one run: 4 MiB float32 frames through
 *   (a) the shared-memory ring (python/webmon_ring.py → RingReader), fs and mmap access,
 *   (b) napari's only path: a CPython multiprocessing manager Queue of pickled numpy arrays,
 *       drained by this package's ManagerClient (pickle decoded to NdArray in Node),
 *   (c) the bound: a plain memory copy of the same bytes in Node (Uint8Array.set).
 * Also the reader's CPU use idle and at 60 Hz, and its wake-up latency at 60 Hz.
 *
 *   tsx bench/ring.bench.ts          (or `pnpm --filter @webmon/shm-reader bench` for every bench)
 *
 * Environment: BENCH_PYTHON (a CPython with numpy; default python3), RING_BENCH_SECONDS (full-speed
 * duration per ring variant, 3), RING_BENCH_QUEUE_FRAMES (frames through the manager queue, 40),
 * RING_BENCH_LATENCY_SECONDS (60 Hz phase, 3), RING_BENCH_IDLE_SECONDS (idle CPU phase, 3).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ManagerClient } from '../src/manager/index.js';
import { RingReader, type RingReaderOptions } from '../src/ring/index.js';
import { nativeAddon } from '../src/shm/native.js';
import { PythonWriter } from '../test/fixtures/ring/spawn-writer.js';

const PYTHON = process.env['BENCH_PYTHON'] ?? 'python3';
const SECONDS = Number(process.env['RING_BENCH_SECONDS'] ?? 3);
const QUEUE_FRAMES = Number(process.env['RING_BENCH_QUEUE_FRAMES'] ?? 40);
const LATENCY_SECONDS = Number(process.env['RING_BENCH_LATENCY_SECONDS'] ?? 3);
const IDLE_SECONDS = Number(process.env['RING_BENCH_IDLE_SECONDS'] ?? 3);
const FRAME_BYTES = 4 * 1024 * 1024;
const GB = 1e9;

const quantile = (values: number[], q: number): number => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};
const fmt = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const cpuMs = (since: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
};

interface Rate {
  /** GB per wall-clock second. */
  wall: number;
  /** GB per CPU-second of this Node process: steadier than wall time on a shared machine. */
  perCpu: number;
}

/**
 * (c) The bound: copying 4 MiB frames in Node. `rotating` copies from 8 different source frames (the
 * ring's working set, 32 MiB, so the source is not cache-hot) into one destination; `hot` copies one
 * cache-resident frame; `fresh` allocates the destination every time (what the default reader does).
 */
function copyBound(seconds: number): { rotating: Rate; hot: Rate; fresh: Rate } {
  const sources = Array.from({ length: 8 }, (_, i) => Buffer.allocUnsafeSlow(FRAME_BYTES).fill(i + 1));
  const dst = Buffer.allocUnsafeSlow(FRAME_BYTES);
  const run = (mode: 'rotating' | 'hot' | 'fresh'): Rate => {
    let n = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    let sink = 0;
    while (performance.now() < end) {
      const target = mode === 'fresh' ? Buffer.allocUnsafeSlow(FRAME_BYTES) : dst;
      target.set(sources[mode === 'hot' ? 0 : n & 7]!);
      sink += target[n & 1023]!;
      n++;
    }
    if (sink < 0) console.log(sink);
    const bytes = n * FRAME_BYTES;
    return { wall: bytes / ((performance.now() - t0) / 1000) / GB, perCpu: bytes / (cpuMs(cpu0) / 1000) / GB };
  };
  return { rotating: run('rotating'), hot: run('hot'), fresh: run('fresh') };
}

interface RingRun {
  label: string;
  gbps: number;
  perCpu: number;
  writerGbps: number;
  received: number;
  skipped: number;
  torn: number;
  latencyP50: number;
}

/** (a) A full-speed writer for SECONDS; the reader takes every record it can through `next()`. */
async function ringThroughput(label: string, options: RingReaderOptions, release = false): Promise<RingRun> {
  const writer = await PythonWriter.start(PYTHON, { mode: 'frames', slots: 8, max_payload: FRAME_BYTES, seconds: SECONDS, wait_go: true, heartbeat: 1 });
  try {
    const reader = await RingReader.open(writer.hello.name, { start: 'next', ...options });
    let done: number | undefined;
    const finished = writer.done().then((last) => (done = last));
    writer.send('go');
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    let bytes = 0;
    let sink = 0;
    const latencies: number[] = [];
    while (done === undefined) {
      const record = await Promise.race([reader.next(), finished.then(() => undefined)]);
      if (!record) continue;
      latencies.push(Number(process.hrtime.bigint() - record.monoNs) / 1e6);
      bytes += record.bytes.byteLength;
      sink += (record.data as Float32Array)[1]!; // touch the frame like a consumer would
      if (record.zeroCopy && !record.isCurrent()) sink = -sink; // a zero-copy consumer must re-check
      if (release) record.release();
    }
    for (let record = reader.read(); record; record = reader.read()) bytes += record.bytes.byteLength;
    const seconds = (performance.now() - t0) / 1000;
    const cpuSeconds = cpuMs(cpu0) / 1000;
    const { received, overrun, torn } = reader.stats;
    reader.close();
    if (Number.isNaN(sink)) console.log('NaN');
    return {
      label,
      gbps: bytes / seconds / GB,
      perCpu: bytes / cpuSeconds / GB,
      writerGbps: (done! * FRAME_BYTES) / seconds / GB,
      received,
      skipped: overrun,
      torn,
      latencyP50: quantile(latencies, 0.5),
    };
  } finally {
    writer.kill();
    await writer.exited;
  }
}

/** The reader's wake-up latency and CPU at 60 Hz, then its CPU with no writes at all. */
async function ringPaced(frameBytes: number, options: RingReaderOptions = {}, release = false, measureIdle = false): Promise<{ p50: number; p99: number; max: number; cpu60: number; cpuIdle: number; frames: number }> {
  const writer = await PythonWriter.start(PYTHON, {
    mode: 'frames',
    slots: 8,
    max_payload: frameBytes,
    frame_bytes: frameBytes,
    seconds: LATENCY_SECONDS,
    hz: 60,
    wait_go: true,
  });
  try {
    const reader = await RingReader.open(writer.hello.name, { start: 'next', ...options });
    let done: number | undefined;
    const finished = writer.done().then((last) => (done = last));
    writer.send('go');
    const latencies: number[] = [];
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    while (done === undefined) {
      const record = await Promise.race([reader.next(), finished.then(() => undefined)]);
      if (!record) continue;
      latencies.push(Number(process.hrtime.bigint() - record.monoNs) / 1e6);
      if (release) record.release();
    }
    const cpu60 = cpuMs(cpu0) / (performance.now() - t0);
    // Idle: the writer is alive (heartbeat thread) but publishes nothing.
    const idle0 = process.cpuUsage();
    const t1 = performance.now();
    const pending = reader.next();
    if (measureIdle) await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
    const cpuIdle = cpuMs(idle0) / (performance.now() - t1);
    reader.close();
    await pending;
    return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: Math.max(...latencies), cpu60, cpuIdle, frames: latencies.length };
  } finally {
    writer.kill();
    await writer.exited;
  }
}

/** (b) napari's path: CPython manager Queue of pickled numpy arrays, drained by our ManagerClient. */
async function managerQueue(): Promise<{ gbps: number; framesPerSecond: number; latencyP50: number }> {
  const server = spawn(PYTHON, [fileURLToPath(new URL('../test/fixtures/ring/queue_server.py', import.meta.url))], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: server.stdout })[Symbol.asyncIterator]();
  const nextLine = async (): Promise<Record<string, number>> => JSON.parse((await lines.next()).value as string) as Record<string, number>;
  try {
    const { port } = await nextLine();
    const client = await ManagerClient.connect({ port: port!, authkey: 'ringbench' });
    try {
      const queue = await client.queue('get_queue');
      const take = async (count: number, hz: number): Promise<{ seconds: number; latencies: number[] }> => {
        server.stdin.write(`${JSON.stringify({ count, hz, frame_bytes: FRAME_BYTES })}\n`);
        const latencies: number[] = [];
        const t0 = performance.now();
        for (let i = 0; i < count; i++) {
          const item = (await queue.get()) as [bigint | number, number, { data: Float32Array }];
          latencies.push(Number(process.hrtime.bigint() - BigInt(item[0])) / 1e6);
          if (item[2].data.byteLength !== FRAME_BYTES) throw new Error('unexpected frame size from the queue');
        }
        const seconds = (performance.now() - t0) / 1000;
        await nextLine(); // {"done"}
        return { seconds, latencies };
      };
      const full = await take(QUEUE_FRAMES, 0);
      const paced = await take(Math.max(10, Math.round(QUEUE_FRAMES / 2)), 5); // latency without queueing
      return {
        gbps: (QUEUE_FRAMES * FRAME_BYTES) / full.seconds / GB,
        framesPerSecond: QUEUE_FRAMES / full.seconds,
        latencyP50: quantile(paced.latencies, 0.5),
      };
    } finally {
      await client.close();
    }
  } finally {
    server.stdin.end(`${JSON.stringify({ exit: true })}\n`);
    await new Promise((resolve) => server.once('exit', resolve));
  }
}

export async function main(): Promise<void> {
  const mapped = nativeAddon() !== null;
  console.log(`ring bench: 4 MiB float32 frames, python ${PYTHON}, node ${process.version}, mmap addon ${mapped ? 'built' : 'NOT built (fs only)'}`);
  const bound = copyBound(1);
  const runs: RingRun[] = [];
  runs.push(await ringThroughput('ring, fs (pread) copy', { access: 'fs' }));
  runs.push(await ringThroughput('ring, fs copy + release()', { access: 'fs' }, true));
  if (mapped) {
    runs.push(await ringThroughput('ring, mmap copy', { access: 'mmap' }));
    runs.push(await ringThroughput('ring, mmap copy + release()', { access: 'mmap' }, true));
    runs.push(await ringThroughput('ring, mmap zero-copy view', { access: 'mmap', copy: false }));
  }
  const smallNotify = await ringPaced(4096, { wake: 'auto' }, false, true);
  const smallPoll = await ringPaced(4096, { wake: 'poll' }, false, true);
  const paced = await ringPaced(FRAME_BYTES);
  const pacedRelease = await ringPaced(FRAME_BYTES, {}, true);
  const pacedZeroCopy = mapped ? await ringPaced(FRAME_BYTES, { copy: false }) : undefined;
  const queue = await managerQueue();

  const defaultRun = runs.find((r) => r.label === (mapped ? 'ring, mmap copy' : 'ring, fs (pread) copy'))!;
  const ref = bound.rotating;
  const table: string[][] = [
    ['path', 'GB/s', 'GB/CPU-s', 'frames/s', 'writer GB/s', 'skipped', 'torn caught', 'p50 ms', '× queue', '% of copy bound (wall / CPU)'],
  ];
  for (const r of runs) {
    table.push([
      r.label,
      fmt(r.gbps),
      fmt(r.perCpu),
      fmt((r.gbps * GB) / FRAME_BYTES, 0),
      fmt(r.writerGbps),
      String(r.skipped),
      String(r.torn),
      fmt(r.latencyP50),
      `${fmt(r.gbps / queue.gbps, 0)}×`,
      `${fmt((100 * r.gbps) / ref.wall, 0)} % / ${fmt((100 * r.perCpu) / ref.perCpu, 0)} %`,
    ]);
  }
  table.push(['manager Queue, pickled numpy (napari)', fmt(queue.gbps, 3), '', fmt(queue.framesPerSecond, 1), '', '', '', fmt(queue.latencyP50), '1×', `${fmt((100 * queue.gbps) / ref.wall, 1)} %`]);
  for (const [label, rate] of [
    ['copy bound: 8 rotating 4 MiB frames → one dst', bound.rotating],
    ['copy: one cache-hot frame → one dst', bound.hot],
    ['copy: rotating frames → fresh dst each', bound.fresh],
  ] as const) {
    table.push([label, fmt(rate.wall), fmt(rate.perCpu), fmt((rate.wall * GB) / FRAME_BYTES, 0), '', '', '', '', '', `${fmt((100 * rate.wall) / ref.wall, 0)} % / ${fmt((100 * rate.perCpu) / ref.perCpu, 0)} %`]);
  }
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  for (const row of table) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  '));
  console.log(
    `reader idle (writer alive, nothing published): CPU ${fmt(smallNotify.cpuIdle * 100, 2)} % of a core woken by the writer's socket (default), ` +
      `${fmt(smallPoll.cpuIdle * 100, 2)} % with adaptive polling (wake: 'poll')`,
  );
  for (const [label, p] of [
    ['4 KiB frames, socket wake-up (default)', smallNotify],
    ['4 KiB frames, adaptive polling', smallPoll],
    ['4 MiB frames, default copy', paced],
    ['4 MiB frames, copy + release()', pacedRelease],
    ['4 MiB frames, zero-copy view', pacedZeroCopy],
  ] as const) {
    if (!p) continue;
    console.log(
      `reader at 60 Hz, ${label}: latency p50 ${fmt(p.p50)} ms, p99 ${fmt(p.p99)} ms, max ${fmt(p.max)} ms over ${p.frames} frames; CPU ${fmt(p.cpu60 * 100, 1)} % of a core`,
    );
  }
  const best = runs.reduce((a, b) => (b.gbps > a.gbps ? b : a));
  for (const r of [defaultRun, best]) {
    const xQueue = r.gbps / queue.gbps;
    const ofBound = r.gbps / ref.wall;
    const ofBoundCpu = r.perCpu / ref.perCpu;
    console.log(
      `goals (${r === defaultRun ? 'default reader' : 'best variant'}: ${r.label}): ≥ 50× the manager queue → ${fmt(xQueue, 0)}× ${xQueue >= 50 ? 'MET' : 'MISSED'}; ` +
        `≥ 30 % of the copy bound → ${fmt(ofBound * 100, 0)} % wall ${ofBound >= 0.3 ? 'MET' : 'MISSED'}, ${fmt(ofBoundCpu * 100, 0)} % per CPU-second ${ofBoundCpu >= 0.3 ? 'MET' : 'MISSED'}`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
