/**
 * Bulk arrays from Python to a browser page: 1024 × 1024 float32 frames (4 MiB) at a 60 Hz target.
 *
 *   pnpm --filter webmon bench:image     (also the second half of `pnpm --filter webmon bench`)
 *
 * The writer is the simulator's image stream (CPython + numpy, `webmon_ring.RingWriter`, 60 Hz). The
 * Node side is webmon's own code: `RingTopics` from `@webmon/napari/node` (the shared-memory ring → `relay.publishFrame` on a
 * binary `latest` topic) and the relay with webmon's flow-control settings, served to real Chromium.
 * The page turns each frame into a Float32Array and records its age: page wall clock − the writer's
 * `time.time_ns()` at publish (same machine clock).
 *
 * Runs, one after the other on the same writer:
 * 1. ring → binary frames → Chromium (what webmon does: the page acknowledges each frame, credit window 1);
 *    the same page asking for an array view the size of an 800 × 800 canvas (view mode, protocol 1.4: the
 *    relay sends each frame resampled by area, 1024² → 800² float32, computed once per frame on the relay's
 *    view thread);
 *    and the same page never acknowledging (a protocol 1.1 client: the relay sends as fast as the socket
 *    takes and the kernel's buffers hold older frames) — page Hz against writer Hz and frame age p50/p99
 *    of the three side by side;
 * 2. baseline: the same ring records sent as base64 inside JSON (`relay.publish`) → Chromium decodes
 *    them (`Uint8Array.fromBase64`) — what a JSON-only transport (the original webmon's socket.io)
 *    would have to do with an array;
 * 3. ring → binary frames → a Node relay client in this process (no browser, acknowledging): what the
 *    server side can deliver when the page is not the bottleneck; and the same with the writer unthrottled
 *    and a client that does not acknowledge (the most the ring → relay path carries: 60 Hz of 4 MiB is
 *    only 252 MB/s);
 * 4. reference: plain `ws` sending the same 4 MiB message to Chromium each time the page asks for the
 *    next (closed loop, one message in flight, no webmon code): how fast this Chromium takes such messages;
 *    then run 1's page again with the writer at BENCH_IMAGE_FAST_HZ (240), faster than that, so that the
 *    page, not the writer, sets the rate: webmon's full-resolution page against that ceiling; then plain
 *    `ws` again on that writer, sending the newest ring record on each request with its writer time: the
 *    frame age the page could have on this machine with no relay, credits or page framework at all.
 * 5. a page CPU-throttled 4× (DevTools protocol `Emulation.setCPUThrottlingRate`) beside an unthrottled
 *    page on the same topic (at full resolution, then in the view the image page asks for by default), and
 *    that unthrottled page alone first, then beside an idle throttled tab
 *    (the throttling's own CPU): the slow page's age against its own frame interval, the other page's Hz
 *    and age against itself alone and beside the idle throttled tab; at full resolution, the same with no
 *    webmon code (plain `ws`, each page taking the newest ring record when it has the previous one);
 * 6. fairness in Chromium: a `frame_time`-like stream (60 Hz, its publish wall time inside) on a page
 *    alone, then on a page that also takes the saturating image topic on one connection (a relay client
 *    without a bulk worker), then with the image on the client's bulk worker (a connection of its own in
 *    a dedicated worker, its bytes moved to the page), the page keeping its frames, then borrowing them
 *    (`borrowFrames`: each buffer back to the worker once handled, what webmon's pages do): put → page p50/p99 of each,
 *    with the cores the whole machine kept busy; BENCH_IMAGE_FAIRNESS_ROUNDS rounds, the median ratio.
 * The webmon pages of every group take the image as BENCH_IMAGE_BULK says (default: the bulk worker).
 * Environment: BENCH_IMAGE_RUNS (main,throttled,fairness: which of the groups above to run: main = 1–4; views = the view mode runs of 1 alone;
 * ceiling = 4 alone; bulk = the full-resolution page on one connection and on the bulk worker, interleaved rounds),
 * BENCH_IMAGE_THROTTLE (4), BENCH_IMAGE_THROTTLED_MODES (full,view: the throttled group at full resolution, then in the image page's default view), BENCH_IMAGE_SECONDS (8) per run, BENCH_IMAGE_WARMUP_SECONDS (3), BENCH_IMAGE_HZ (60),
 * BENCH_IMAGE_SIZE (1024), BENCH_IMAGE_VIEW (800: the view mode's canvas edge), BENCH_IMAGE_VIEW_DTYPES (float32,uint16,uint8: one view-mode run per dtype), BENCH_IMAGE_VIEW_WINDOWS (1: the credit windows, one view-mode run each per dtype), BENCH_IMAGE_CHUNK_KIB and
 * BENCH_IMAGE_BULK_WINDOW_KIB, BENCH_IMAGE_BESIDE_SMALL_KIB (the relay's `chunkBytes` / `bulkWindowBytes` /
 * `bulkWindowBesideSmallBytes` for pages that take chunks, protocol 1.5; default: the relay's),
 * BENCH_IMAGE_FAIRNESS_ROUNDS (3), BENCH_IMAGE_BULK (worker: the pages' relay client has a bulk worker, as webmon's pages; page: one connection),
 * BENCH_IMAGE_BORROW (1: the pages borrow frames, as webmon's; 0: they keep them),
 * BENCH_PLAYWRIGHT_PAGES=1 (playwright's own pages, its network instrumentation on, instead of quiet pages),
 * BENCH_IMAGE_TRACE (a path prefix: a Chromium trace of each window of the throttled and fairness groups,
 * their first page; the trace costs time itself, so that run's figures are not the bench's).
 */
import { createServer, type Server } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { build } from 'tsup';
import WebSocket, { WebSocketServer } from 'ws';
import { ChunkDefaults } from '@webmon/protocol';
import { createRelay, type Relay } from '@webmon/relay';
import { createRelayClient } from '@webmon/relay/client';
import { RingReader, ringWriterPythonPath, type RingRecord } from '@webmon/shm-reader';
import { createLogger } from '../src/logger.js';
import { RingTopics } from '@webmon/napari/node';
import { openBenchPage, type QuietPage } from '@webmon/test-chromium';
import type { Browser } from 'playwright-core';
import { PYTHON, launchChromium, startProcess, type Proc } from '../test/helpers.js';

const SECONDS = Number(process.env['BENCH_IMAGE_SECONDS'] ?? 8);
const WARMUP_SECONDS = Number(process.env['BENCH_IMAGE_WARMUP_SECONDS'] ?? 3);
const HZ = Number(process.env['BENCH_IMAGE_HZ'] ?? 60);
const SIZE = Number(process.env['BENCH_IMAGE_SIZE'] ?? 1024);
const VIEW_EDGE = Number(process.env['BENCH_IMAGE_VIEW'] ?? 800);
/** The dtypes the view mode runs ask for, one run each (float32: exact; uint16 / float16 / uint8: fewer bytes). */
const VIEW_DTYPES = (process.env['BENCH_IMAGE_VIEW_DTYPES'] ?? 'float32,uint16,uint8').split(',');
/** The credit windows the view mode runs ask for, one run each per dtype (1: what webmon's pages ask). */
const VIEW_WINDOWS = (process.env['BENCH_IMAGE_VIEW_WINDOWS'] ?? '1').split(',').map(Number);
const CHUNK_BYTES = process.env['BENCH_IMAGE_CHUNK_KIB'] === undefined ? undefined : Number(process.env['BENCH_IMAGE_CHUNK_KIB']) * 1024;
const BULK_WINDOW_BYTES = process.env['BENCH_IMAGE_BULK_WINDOW_KIB'] === undefined ? undefined : Number(process.env['BENCH_IMAGE_BULK_WINDOW_KIB']) * 1024;
const BESIDE_SMALL_BYTES = process.env['BENCH_IMAGE_BESIDE_SMALL_KIB'] === undefined ? undefined : Number(process.env['BENCH_IMAGE_BESIDE_SMALL_KIB']) * 1024;
const FRAME_BYTES = SIZE * SIZE * 4;
/** The writer's rate for the full-resolution run against this Chromium's ceiling (main group): faster than the page takes. */
const FAST_HZ = Number(process.env['BENCH_IMAGE_FAST_HZ'] ?? 240);
const PYTHON_DIR = fileURLToPath(new URL('../python', import.meta.url));
/** Rounds of the fairness group (alone, one connection, bulk worker in each); the median ratio is reported. */
const FAIRNESS_ROUNDS = Math.max(1, Number(process.env['BENCH_IMAGE_FAIRNESS_ROUNDS'] ?? 3));
/**
 * How the bench's webmon pages take the image topic: `worker` (default; what webmon's pages do since
 * 2026-12-06: the shell's relay client has a bulk worker, which it uses for a page's binary topics while the
 * page also takes another topic) or `page` (one connection, every chunk on the page's main thread). The
 * fairness group measures both.
 */
const PAGE_BULK = process.env['BENCH_IMAGE_BULK'] === 'page' ? 'page' : 'worker';
/**
 * Whether the bench's webmon pages borrow frames (`borrowFrames`, as webmon's topics and explorer pages do
 * since 2026-12-06: through the bulk worker each frame's buffer goes back to the worker once handled);
 * BENCH_IMAGE_BORROW=0: the page keeps them. The fairness group measures both.
 */
const PAGE_BORROW = process.env['BENCH_IMAGE_BORROW'] === '0' ? '0' : '1';
const withBulk = (query: string): string => {
  const bulk = /(^|&)bulk=/.test(query) ? query : `${query}&bulk=${PAGE_BULK}`;
  return /(^|&)borrow=/.test(bulk) ? bulk : `${bulk}&borrow=${PAGE_BORROW}`;
};
const CLIENT_SOURCE = fileURLToPath(new URL('./image-page/client.ts', import.meta.url));
/** The relay client's own bulk worker (`bulkWorker`), from the sources, as the client on the page is. */
const BULK_WORKER_SOURCE = fileURLToPath(new URL('../../../packages/relay/src/bulk-worker.ts', import.meta.url));
const BINARY_TOPIC = 'bench.image';
const JSON_TOPIC = 'bench.image-json';
/** A `frame_time`-like stream: small JSON messages at 60 Hz carrying their publish wall time. */
const SMALL_TOPIC = 'bench.frame_time';
const SMALL_HZ = 60;
/** CPU throttling of the slow page (Chrome DevTools Protocol `Emulation.setCPUThrottlingRate`). */
const THROTTLE = Number(process.env['BENCH_IMAGE_THROTTLE'] ?? 4);
/** A Chromium trace of each window of the throttled and fairness groups (its first page), to `<prefix>-<n>.json`. */
const TRACE_PREFIX = process.env['BENCH_IMAGE_TRACE'];
/** Enough to see the page's main thread task by task: message handling, script, garbage collection. */
const TRACE_CATEGORIES = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink', 'toplevel', 'v8', 'v8.gc'];
/**
 * The throttled group's modes, in order (BENCH_IMAGE_THROTTLED_MODES, default `full,view`): `full` = every
 * frame at full resolution; `view` = what the image page asks for by default, an area view the size of its
 * canvas (BENCH_IMAGE_VIEW², float32); `view:uint8` etc. the same view in another dtype.
 */
const THROTTLED_MODES = (process.env['BENCH_IMAGE_THROTTLED_MODES'] ?? 'full,view').split(',').map((mode) => {
  if (mode === 'full') return { name: 'full resolution', query: '' };
  const [kind, dtype = 'float32'] = mode.split(':');
  if (kind === 'view') return { name: `view mode (${VIEW_EDGE}² canvas, area view, ${dtype}${dtype === 'float32' ? ": the image page's default" : ''})`, query: `&view=${VIEW_EDGE}&dtype=${dtype}` };
  throw new Error(`BENCH_IMAGE_THROTTLED_MODES: unknown mode ${mode} (full, view, view:<dtype>)`);
});
const GROUPS = new Set((process.env['BENCH_IMAGE_RUNS'] ?? 'main,throttled,fairness').split(','));

interface Sample {
  frames: number;
  bytes: number;
  arrivals: number[];
  latencies: number[];
  errors: string[];
  smallLatencies?: number[];
  smallNumbers?: number[];
  loopLags?: number[];
}

interface Result {
  name: string;
  writerHz: number;
  publishedHz: number;
  receivedHz: number;
  mbPerSecond: number;
  p50: number;
  p99: number;
  nodeCpu: number;
  /** The `?small=` topic's put → page, ms (NaN when the page did not subscribe to it). */
  smallP50: number;
  smallP99: number;
  smallCount: number;
  /** Small messages the bench published during the window (its 60 Hz timer, as the event loop let it run). */
  smallSent: number;
  /** Small messages missing between the first and the last one the page received (a loss, not coalescing: it is a stream). */
  smallMissing: number;
  /** The publisher's numbers of the small messages: the first and last published in the window, the first and last received. */
  smallRange: [number, number, number, number];
  /**
   * Frames the page handled within the window by its own clock, per second: `receivedHz` counts what the
   * page had when it was collected, which for a busy (throttled) page can be seconds after the window ended.
   */
  inWindowHz: number;
  /** Image frames' age when the relay published them (writer → relay), p50 / p99 ms, over the window. */
  relayAgeP50: number;
  relayAgeP99: number;
  /** How late the page's 10 ms timer fired (its main thread busy), p99 / max ms. */
  pageLagP99: number;
  pageLagMax: number;
  /** This process's (the relay's) event-loop delay over the window, p99 / max ms. */
  relayLoopP99: number;
  relayLoopMax: number;
  /** Cores the whole machine kept busy during the window (/proc/stat; NaN elsewhere): out of `os.cpus().length`. */
  machineBusyCores: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const pad = (text: string, width: number): string => text.padEnd(width);
/** Messages of the small topic published so far (the publisher's `n`). */
let smallPublished = 0;
/** Per image frame published in the current window: its age when the relay published it, ms. */
const relayAges: number[] = [];

/** Numbers missing between the smallest and the largest of `numbers` (each counted once). */
function missingOf(numbers: readonly number[]): number {
  if (numbers.length === 0) return 0;
  const distinct = new Set(numbers);
  return Math.max(...numbers) - Math.min(...numbers) + 1 - distinct.size;
}

/** The middle value (the upper one of an even count), as the rounds' figure. */
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const fixed = (value: number, digits = 1): string => (Number.isFinite(value) ? value.toFixed(digits) : '–');
const TABLE_HEADER = `${pad('run', 52)} ${pad('writer Hz', 10)} ${pad('sent Hz', 8)} ${pad('page Hz', 8)} ${pad('MB/s', 7)} ${pad('age p50 / p99 ms', 18)} Node CPU`;
function tableRow(r: Result): string {
  return `${pad(r.name, 52)} ${pad(fixed(r.writerHz), 10)} ${pad(fixed(r.publishedHz), 8)} ${pad(fixed(r.receivedHz), 8)} ${pad(fixed(r.mbPerSecond, 0), 7)} ${pad(`${fixed(r.p50)} / ${fixed(r.p99)}`, 18)} ${fixed(r.nodeCpu, 0)} %`;
}

/** Printed as soon as measured (a later run, e.g. the base64 baseline on a loaded machine, can take minutes). */
function reportThrottled({ mode, alone, besideIdle, slow, beside }: { mode: string; alone: Result; besideIdle: Result; slow: Result; beside: Result }): void {
  console.log([`throttled group, ${mode}:`, TABLE_HEADER, ...[alone, besideIdle, slow, beside].map(tableRow)].join('\n'));
  const interval = 1000 / slow.receivedHz;
  console.log(`page CPU-throttled ${THROTTLE}×: age p99 / (2 × its frame interval) = ${fixed(slow.p99 / (2 * interval), 2)} (goal ≤ 1: ${slow.p99 <= 2 * interval ? 'met' : 'NOT met'}); ` +
    `${fixed(slow.receivedHz)} Hz, interval ${fixed(interval)} ms, age p50 ${fixed(slow.p50)} / p99 ${fixed(slow.p99)} ms ` +
    `(p50 ${fixed(slow.p50 / interval, 2)} × its interval), of which already at the relay (writer → relay publish) p50 ${fixed(slow.relayAgeP50)} / p99 ${fixed(slow.relayAgeP99)} ms; ` +
    `handled within the window by the pages' own clocks: ${[alone, slow, beside].map((r) => fixed(r.inWindowHz)).join(' / ')} Hz (alone / throttled / beside; page Hz above counts until each page was collected)`);
  // The same ratio with the interval of the frames handled within the window (a throttled page is collected
  // late, so its page Hz above is too high and its interval too short).
  const inWindowInterval = 1000 / slow.inWindowHz;
  console.log(`page CPU-throttled ${THROTTLE}×, interval from frames handled within the window (${fixed(inWindowInterval)} ms): age p99 / (2 × interval) = ${fixed(slow.p99 / (2 * inWindowInterval), 2)}, ` +
    `age p50 / interval = ${fixed(slow.p50 / inWindowInterval, 2)}`);
  // "Unaffected": within this machine's run-to-run noise, taken as Hz ≥ 0.9 × and age p99 ≤ 1.5 × the same page alone.
  const hzRatio = beside.receivedHz / alone.receivedHz;
  const p99Ratio = beside.p99 / alone.p99;
  console.log(`unthrottled page beside it / the same page alone (same run): Hz ${fixed(hzRatio, 2)}×, age p50 ${fixed(beside.p50 / alone.p50, 2)}×, p99 ${fixed(p99Ratio, 2)}× ` +
    `(${fixed(beside.receivedHz)} vs ${fixed(alone.receivedHz)} Hz, p50 ${fixed(beside.p50)} vs ${fixed(alone.p50)} ms, p99 ${fixed(beside.p99)} vs ${fixed(alone.p99)} ms); ` +
    `goal "other pages unaffected" read as Hz ≥ 0.9× and age p99 ≤ 1.5×: ${hzRatio >= 0.9 && p99Ratio <= 1.5 ? 'met' : 'NOT met'}`);
  // The throttling's own CPU taken out: the same page beside an idle throttled tab.
  const hzIdle = beside.receivedHz / besideIdle.receivedHz;
  const p99Idle = beside.p99 / besideIdle.p99;
  console.log(`unthrottled page beside the throttled page / beside an idle throttled tab (same run; the emulation's spinning is in both): Hz ${fixed(hzIdle, 2)}×, p99 ${fixed(p99Idle, 2)}× ` +
    `(${fixed(beside.receivedHz)} vs ${fixed(besideIdle.receivedHz)} Hz, p99 ${fixed(beside.p99)} vs ${fixed(besideIdle.p99)} ms; alone ${fixed(alone.receivedHz)} Hz: an idle throttled tab alone costs it ${fixed(besideIdle.receivedHz / alone.receivedHz, 2)}×); ` +
    `same reading (Hz ≥ 0.9×, p99 ≤ 1.5×): ${hzIdle >= 0.9 && p99Idle <= 1.5 ? 'met' : 'NOT met'}\n`);
}

/** The throttled group's reference (no webmon code), printed beside webmon's figures. */
function reportThrottledReference(alone: ReferenceResult, slow: ReferenceResult, beside: ReferenceResult): void {
  const ratio = slow.p99 / (2000 / slow.hz);
  console.log(`  reference, same writer, no webmon code (plain ws, each page takes the newest ring record when it has the previous one): ` +
    `page throttled ${THROTTLE}× ${fixed(slow.hz)} Hz, age p50 / p99 ${fixed(slow.p50)} / ${fixed(slow.p99)} ms: age p99 / (2 × its frame interval) = ${fixed(ratio, 2)} (${ratio <= 1 ? 'within' : 'NOT within'}); ` +
    `the unthrottled page beside it / alone: Hz ${fixed(beside.hz / alone.hz, 2)}×, age p99 ${fixed(beside.p99 / alone.p99, 2)}× (${fixed(beside.hz)} vs ${fixed(alone.hz)} Hz, p99 ${fixed(beside.p99)} vs ${fixed(alone.p99)} ms); the reference page alone: age p50 / p99 ${fixed(alone.p50)} / ${fixed(alone.p99)} ms`);
}

function reportFairness({ alone, withImage, how }: { alone: Result; withImage: Result; how: string }): number {
  const ratio = withImage.smallP99 / alone.smallP99;
  console.log(`${SMALL_TOPIC} (${SMALL_HZ} Hz) put → page with the image topic on the same page ${how} / without (same run): p99 ${fixed(ratio, 2)}× (goal ≤ 1.5: ${ratio <= 1.5 ? 'met' : 'NOT met'}), ` +
    `p50 ${fixed(withImage.smallP50 / alone.smallP50, 2)}×; p50 / p99 ${fixed(withImage.smallP50, 2)} / ${fixed(withImage.smallP99, 2)} ms vs ${fixed(alone.smallP50, 2)} / ${fixed(alone.smallP99, 2)} ms ` +
    `(${withImage.smallCount} and ${alone.smallCount} messages; the image meanwhile at ${fixed(withImage.receivedHz)} Hz, age p99 ${fixed(withImage.p99)} ms)`);
  // Received against published in the same window: fewer received than published would be a loss; fewer
  // published than 60 Hz × the window means the bench's own timer was held up (its event loop also runs the
  // relay and the ring reader).
  console.log(`${SMALL_TOPIC} messages published in the window / received / missing between the first and last received: ` +
    `alone ${alone.smallSent} / ${alone.smallCount} / ${alone.smallMissing}, with the image ${withImage.smallSent} / ${withImage.smallCount} / ${withImage.smallMissing} ` +
    `(timer nominal ${SMALL_HZ * SECONDS}); numbers published in the window / received: alone ${alone.smallRange.slice(0, 2).join('–')} / ${alone.smallRange.slice(2).join('–')}, ` +
    `with the image ${withImage.smallRange.slice(0, 2).join('–')} / ${withImage.smallRange.slice(2).join('–')}`);
  // Where a late small message waited: the page's main thread (its timer late) or the relay's event loop.
  console.log(`where the time goes: the page's main thread late by p99 / max ${fixed(withImage.pageLagP99)} / ${fixed(withImage.pageLagMax)} ms with the image vs ` +
    `${fixed(alone.pageLagP99)} / ${fixed(alone.pageLagMax)} ms without; the relay's event loop delayed p99 / max ${fixed(withImage.relayLoopP99)} / ${fixed(withImage.relayLoopMax)} ms vs ` +
    `${fixed(alone.relayLoopP99)} / ${fixed(alone.relayLoopMax)} ms; the machine kept ${fixed(withImage.machineBusyCores, 2)} of its ${cpus().length} cores busy vs ${fixed(alone.machineBusyCores, 2)}\n`);
  return ratio;
}

/** The simulator's image stream on its own: prints the ring name, runs until stdin closes. */
function startWriter(unthrottled = false, hz = HZ): Proc {
  const script = unthrottled
    ? [
        // One frame drawn once, then published back to back: the ring → relay path, not numpy, is measured.
        // The simulator first: it keeps numpy's BLAS to one thread, which only works before numpy is imported.
        'import napari_simulator as simulator',
        'import sys, threading, numpy',
        `stream = simulator.ImageStream(simulator.import_ring_writer(), numpy, ${SIZE}, 1)`,
        'frame = stream._numpy_frame(1.0).copy()',
        'print("ring", stream.name, flush=True)',
        'done = threading.Event()',
        'threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()',
        'n = 0',
        'while not done.is_set():',
        '    n += 1',
        '    stream.ring.publish(frame, {"frame": n})',
        'stream.ring.close()',
      ].join('\n')
    : [
        'import napari_simulator as simulator',
        'import sys, numpy',
        `stream = simulator.ImageStream(simulator.import_ring_writer(), numpy, ${SIZE}, ${hz})`,
        'print("ring", stream.name, flush=True)',
        'stream.start()',
        'sys.stdin.read()',
        'stream.close()',
      ].join('\n');
  const pythonPath = [dirname(ringWriterPythonPath()), PYTHON_DIR].join(':');
  return startProcess(PYTHON, ['-c', script], { env: { ...process.env, PYTHONPATH: pythonPath } });
}

let bulkWorkerJs = '';
async function serve(clientJs: string): Promise<{ server: Server; relay: Relay; url: string }> {
  const html = '<!doctype html><meta charset="utf-8"><title>image bench</title><script type="module" src="/client.js"></script>';
  const server = createServer((request, response) => {
    if (request.url?.startsWith('/bulk-worker.js')) response.writeHead(200, { 'content-type': 'text/javascript' }).end(bulkWorkerJs);
    else if (request.url?.startsWith('/client.js')) response.writeHead(200, { 'content-type': 'text/javascript' }).end(clientJs);
    else response.writeHead(200, { 'content-type': 'text/html' }).end(html);
  });
  // webmon's relay settings (app.ts): little in flight, so a slow page gets the newest frame.
  const relay = createRelay({
    server,
    path: '/ws',
    highWaterMark: 128 * 1024,
    lowWaterMark: 32 * 1024,
    maxBufferedBytes: 64 * 2 ** 20,
    // Chunked frames (protocol 1.5): the relay's defaults unless set, to tune them.
    ...(CHUNK_BYTES === undefined ? {} : { chunkBytes: CHUNK_BYTES }),
    ...(BULK_WINDOW_BYTES === undefined ? {} : { bulkWindowBytes: BULK_WINDOW_BYTES }),
    ...(BESIDE_SMALL_BYTES === undefined ? {} : { bulkWindowBesideSmallBytes: BESIDE_SMALL_BYTES }),
    topics: [
      { name: JSON_TOPIC, mode: 'latest' },
      { name: SMALL_TOPIC, mode: 'stream' },
    ],
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, relay, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

/** The machine's CPU time so far (Linux /proc/stat, in ticks), busy and in all; undefined where there is none. */
function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((sum, value) => sum + value, 0);
    // idle and iowait are not busy.
    return { busy: total - (fields[3] ?? 0) - (fields[4] ?? 0), total };
  } catch {
    return undefined;
  }
}

/**
 * Bench pages are quiet (`openQuietPage`): playwright reports every WebSocket frame a page of its own
 * receives, base64, to this process, which also runs the relay: about a core's worth of work between
 * Chromium and this process at the image's rates, which no user's browser does. BENCH_PLAYWRIGHT_PAGES=1
 * uses playwright's pages instead (how this bench measured before December 2026), to see what that costs.
 */
const WATCHED_PAGES = process.env['BENCH_PLAYWRIGHT_PAGES'] === '1';
const openPageAt = (browser: Browser, url: string): Promise<QuietPage> => openBenchPage(browser, url, { watched: WATCHED_PAGES });

/** Baseline publisher: each ring record as base64 in a JSON `latest` value. */
async function publishBase64(relay: Relay, ringName: string, signal: AbortSignal, counter: { published: number }): Promise<void> {
  const reader = await RingReader.open(ringName, { start: 'latest', policy: 'latest' });
  const onAbort = (): void => reader.close();
  signal.addEventListener('abort', onAbort);
  try {
    for (;;) {
      const record = await reader.next();
      if (!record) break;
      const data = Buffer.from(record.bytes.buffer, record.bytes.byteOffset, record.bytes.byteLength).toString('base64');
      relay.publish(JSON_TOPIC, { time: Number(record.timeNs / 1000n) / 1000, dtype: 'float32', shape: record.shape, data });
      record.release();
      counter.published++;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    reader.close();
  }
}

/** Plain ws, closed loop: Chromium asks for the next 4 MiB message when it has the previous one. */
async function chromiumCeiling(browser: Browser, bytes = FRAME_BYTES): Promise<number> {
  const payload = Buffer.alloc(bytes, 7);
  const server = createServer((_request, response) =>
    response.writeHead(200, { 'content-type': 'text/html' }).end(`<script>
      const socket = new WebSocket('ws://' + location.host); socket.binaryType = 'arraybuffer'; globalThis.received = 0;
      socket.onmessage = (event) => { const pixels = new Uint8Array(event.data); globalThis.checksum = pixels[1000]; globalThis.received++; socket.send('next'); };
      socket.onopen = () => socket.send('next');
    </script>`),
  );
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket) => socket.on('message', () => socket.send(payload)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const page = await openPageAt(browser, `http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  try {
    await new Promise((resolve) => setTimeout(resolve, WARMUP_SECONDS * 1000));
    const count = (): Promise<number> => page.evaluate(() => (globalThis as unknown as { received: number }).received);
    const n0 = await count();
    const t0 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
    return (await count() - n0) / ((performance.now() - t0) / 1000);
  } finally {
    await page.close();
    wss.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** The reference pages' script: each frame is `[writer time, f64][pixels]`; its age is taken as the bench page takes it. */
const NEWEST_PAGE = `<script>
  const socket = new WebSocket('ws://' + location.host); socket.binaryType = 'arraybuffer'; globalThis.ages = []; globalThis.arrivals = [];
  socket.onmessage = (event) => {
    const now = performance.timeOrigin + performance.now();
    const pixels = new Float32Array(event.data, 8); globalThis.checksum = pixels[1000];
    globalThis.ages.push(now - new DataView(event.data).getFloat64(0, true)); globalThis.arrivals.push(now); socket.send('next');
  };
  socket.onopen = () => socket.send('next');
</script>`;

/** What a reference page took in one window: Hz by its own clock, and frame age p50 / p99. */
interface ReferenceResult {
  hz: number;
  p50: number;
  p99: number;
}

/**
 * Plain ws, closed loop, the *newest* ring record: each time a page asks, it gets the newest record it has
 * not had yet (waiting for the next one when it has had the newest), its writer time in front (a fragment
 * of its own, so the 4 MiB are not copied again). No relay, no credits, no page framework: the frame age a
 * full-resolution page could have on this machine with that writer, against which webmon's is read.
 * `follow`: one reader copies every record as it comes (as webmon's ring reader does) and pages share the
 * newest; else a page's request reads the newest record then (one page only; a 240 Hz writer's records are
 * not all copied).
 */
async function newestReference(browser: Browser, ringName: string, throttles: readonly number[], follow: boolean): Promise<ReferenceResult[]> {
  const reader = await RingReader.open(ringName, { policy: 'latest', start: 'latest', poolSize: 8 });
  /** The newest record and who still sends it (its buffer goes back to the reader's pool at zero). */
  type Held = { record: RingRecord; users: number };
  let newest: Held | undefined;
  let arrived: (() => void)[] = [];
  const drop = (held: Held): void => {
    if (--held.users === 0) held.record.release();
  };
  let following = follow;
  const wakeAll = (): void => {
    const waiting = arrived;
    arrived = [];
    for (const wake of waiting) wake();
  };
  const followed = follow
    ? (async () => {
        while (following) {
          const record = await reader.next();
          if (record === undefined) break; // the reader was closed
          const previous = newest;
          newest = { record, users: 1 };
          if (previous) drop(previous);
          wakeAll();
        }
        following = false;
        wakeAll();
      })()
    : undefined;
  /** The newest record after `after`; undefined once the reader is closed (the window is over). */
  const take = async (after: number): Promise<Held | undefined> => {
    if (!follow) {
      // `policy: 'latest'`: each read is the newest record not read before.
      const record = reader.read() ?? (await reader.next());
      return record === undefined ? undefined : { record, users: 1 };
    }
    while (following && (newest === undefined || newest.record.seq <= after)) await new Promise<void>((resolve) => arrived.push(resolve));
    if (!following || newest === undefined) return undefined;
    newest.users++;
    return newest;
  };
  const server = createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end(NEWEST_PAGE));
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket) => {
    let lastSeq = 0;
    socket.on('message', async () => {
      const held = await take(lastSeq);
      if (held === undefined) return;
      lastSeq = held.record.seq;
      const time = Buffer.alloc(8);
      time.writeDoubleLE(Number(held.record.timeNs) / 1e6);
      socket.send(time, { binary: true, fin: false });
      socket.send(held.record.bytes, { binary: true, fin: true }, () => drop(held));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const pages: QuietPage[] = [];
  try {
    for (const throttle of throttles) {
      const page = await openPageAt(browser, `http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      pages.push(page);
      if (throttle !== 1) await page.send('Emulation.setCPUThrottlingRate', { rate: throttle });
    }
    await new Promise((resolve) => setTimeout(resolve, WARMUP_SECONDS * 1000));
    const from = await Promise.all(pages.map((page) => page.evaluate(() => performance.timeOrigin + performance.now())));
    await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
    return await Promise.all(
      pages.map(async (page, index) => {
        const start = from[index]!;
        const { ages, arrivals } = await page.evaluate(() => {
          const state = globalThis as unknown as { ages: number[]; arrivals: number[] };
          return { ages: state.ages, arrivals: state.arrivals };
        });
        const within = arrivals.map((at, k) => [at, ages[k]!] as const).filter(([at]) => at >= start && at < start + SECONDS * 1000);
        const sorted = within.map(([, age]) => age).sort((a, b) => a - b);
        return { hz: within.length / SECONDS, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
      }),
    );
  } finally {
    await Promise.all(pages.map((page) => page.close()));
    wss.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    following = false;
    reader.close();
    wakeAll();
    await followed;
  }
}

async function main(): Promise<void> {
  const outDir = mkdtempSync(join(tmpdir(), 'webmon-image-bench-'));
  await build({ entry: { client: CLIENT_SOURCE, 'bulk-worker': BULK_WORKER_SOURCE }, outDir, format: ['esm'], platform: 'browser', target: 'es2022', noExternal: [/.*/], minify: true, splitting: false, silent: true, config: false });
  const clientJs = readFileSync(join(outDir, 'client.js'), 'utf8');
  bulkWorkerJs = readFileSync(join(outDir, 'bulk-worker.js'), 'utf8');
  rmSync(outDir, { recursive: true, force: true });

  const writer = startWriter();
  const ringName = (await writer.waitFor(/ring (wmr_[0-9a-f]+)/, 60_000))[1] ?? '';
  const { server, relay, url } = await serve(clientJs);
  // How old each image frame already is when the relay publishes it (writer's time → relay, same machine
  // clock): the part of a page's frame age that is the producer's and the ring's, not the relay's or the page's.
  relay.tap({
    frame: (topic, init) => {
      if (topic.name === BINARY_TOPIC) relayAges.push(performance.timeOrigin + performance.now() - init.time);
    },
  });
  const logger = createLogger('warn');
  // Declares the binary topic when the ring opens (pages subscribed before get it as it appears).
  const source = new RingTopics(relay, logger);
  const probe = await RingReader.open(ringName);
  const browser = await launchChromium();
  console.log(`image bench: ${SIZE}×${SIZE} float32 (${(FRAME_BYTES / 2 ** 20).toFixed(0)} MiB) frames, writer target ${HZ} Hz; ${SECONDS} s per run after ${WARMUP_SECONDS} s warm-up; ` +
    `chunks (1.5) of ${(CHUNK_BYTES ?? ChunkDefaults.chunkBytes) / 1024} KiB, bulk window ${(BULK_WINDOW_BYTES ?? ChunkDefaults.bulkWindowBytes) / 1024} KiB (${(BESIDE_SMALL_BYTES ?? ChunkDefaults.bulkWindowBesideSmallBytes) / 1024} KiB while small messages flow)\n`);

  /** One measured window: `collect` returns each receiver's samples since `reset` (one per name). */
  async function windowOf(names: string[], reset: () => Promise<void>, collect: () => Promise<Sample[]>, published: () => number): Promise<Result[]> {
    console.error(`… ${names.join(' + ')}`);
    await new Promise((resolve) => setTimeout(resolve, WARMUP_SECONDS * 1000));
    await reset();
    const seq0 = probe.writeSeq();
    const published0 = published();
    const small0 = smallPublished;
    relayAges.length = 0;
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const cpu0 = process.cpuUsage();
    const machine0 = machineTicks();
    const t0 = performance.now();
    const wall0 = performance.timeOrigin + t0;
    await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
    const t1 = performance.now();
    const elapsed = (t1 - t0) / 1000;
    const wall1 = performance.timeOrigin + t1;
    const cpu = process.cpuUsage(cpu0);
    const machine1 = machineTicks();
    loop.disable();
    // Counters first: collecting from a busy page can take a while.
    const written = probe.writeSeq() - seq0;
    const small1 = smallPublished;
    const publishedCount = published() - published0;
    const ages = [...relayAges].sort((a, b) => a - b);
    const samples = await collect();
    return names.map((name, index) => {
      const sample = samples[index]!;
      if (sample.errors.length > 0) console.warn(`${name}: client errors: ${sample.errors.slice(0, 3).join('; ')}`);
      const sorted = [...sample.latencies].sort((a, b) => a - b);
      const small = [...(sample.smallLatencies ?? [])].sort((a, b) => a - b);
      const lags = [...(sample.loopLags ?? [])].sort((a, b) => a - b);
      return {
        name,
        writerHz: written / elapsed,
        publishedHz: publishedCount / elapsed,
        receivedHz: sample.frames / elapsed,
        mbPerSecond: sample.bytes / elapsed / 1e6,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        nodeCpu: ((cpu.user + cpu.system) / 1e6 / elapsed) * 100,
        smallP50: percentile(small, 50),
        smallP99: percentile(small, 99),
        smallCount: small.length,
        smallSent: small1 - small0,
        smallMissing: missingOf(sample.smallNumbers ?? []),
        smallRange: [small0 + 1, small1, Math.min(...(sample.smallNumbers ?? [Number.NaN])), Math.max(...(sample.smallNumbers ?? [Number.NaN]))],
        inWindowHz: sample.arrivals.filter((at) => at >= wall0 && at <= wall1).length / elapsed,
        relayAgeP50: percentile(ages, 50),
        relayAgeP99: percentile(ages, 99),
        pageLagP99: percentile(lags, 99),
        pageLagMax: lags.at(-1) ?? Number.NaN,
        relayLoopP99: loop.percentile(99) / 1e6,
        relayLoopMax: loop.max / 1e6,
        machineBusyCores: machine0 && machine1 ? ((machine1.busy - machine0.busy) / (machine1.total - machine0.total)) * cpus().length : Number.NaN,
      };
    });
  }

  async function window(name: string, reset: () => Promise<void>, collect: () => Promise<Sample>, published: () => number): Promise<Result> {
    const [result] = await windowOf([name], reset, async () => [await collect()], published);
    return result!;
  }

  const resetPage = (page: QuietPage): Promise<void> =>
    page.evaluate(() => {
      const state = (globalThis as unknown as { imageBench: Sample }).imageBench;
      state.frames = 0;
      state.bytes = 0;
      state.arrivals.length = 0;
      state.latencies.length = 0;
      state.smallLatencies?.splice(0);
      state.smallNumbers?.splice(0);
      state.loopLags?.splice(0);
    });
  const collectPage = (page: QuietPage): Promise<Sample> =>
    page.evaluate(() => {
      const { frames, bytes, arrivals, latencies, errors, smallLatencies, smallNumbers, loopLags } = (globalThis as unknown as { imageBench: Sample }).imageBench;
      return { frames, bytes, arrivals, latencies, errors, smallLatencies, smallNumbers, loopLags };
    });

  /**
   * Opens the bench page with `query`, CPU-throttled `throttle` × through the DevTools protocol (1 = not),
   * and waits until it has received a frame (or, without an image topic, a small message).
   */
  async function openPage(query: string, throttle = 1): Promise<QuietPage> {
    const page = await openPageAt(browser, `${url}?${withBulk(query)}`);
    if (throttle !== 1) await page.send('Emulation.setCPUThrottlingRate', { rate: throttle });
    await page.waitFor(() => {
      const state = (globalThis as { imageBench?: Sample }).imageBench;
      return (state?.frames ?? 0) > 0 || (state?.smallLatencies?.length ?? 0) > 0;
    }, { timeoutMs: 120_000, pollMs: 250 });
    return page;
  }

  let traces = 0;
  /** Several bench pages open at once, measured in one window (each page's own figures). */
  async function pagesTogether(runs: { name: string; query: string; throttle?: number }[], published: () => number): Promise<Result[]> {
    const pages: QuietPage[] = [];
    try {
      for (const run of runs) pages.push(await openPage(run.query, run.throttle));
      if (TRACE_PREFIX) await browser.startTracing(undefined, { path: `${TRACE_PREFIX}-${++traces}.json`, categories: TRACE_CATEGORIES });
      try {
        return await windowOf(
          runs.map((run) => run.name),
          async () => void (await Promise.all(pages.map(resetPage))),
          () => Promise.all(pages.map(collectPage)),
          published,
        );
      } finally {
        if (TRACE_PREFIX) await browser.stopTracing();
      }
    } finally {
      await Promise.all(pages.map((page) => page.close()));
    }
  }

  async function inBrowser(name: string, topic: string, published: () => number, query = ''): Promise<Result> {
    const page = await openPageAt(browser, `${url}?${withBulk(`topic=${topic}${query}`)}`);
    try {
      // One frame says the stream reached the page (the warm-up follows). The base64 baseline can take well
      // over a minute for three on a loaded machine (it managed 0.4 Hz there), so wait for one, longer.
      await page.waitFor(() => ((globalThis as { imageBench?: { frames: number } }).imageBench?.frames ?? 0) > 0, { timeoutMs: 120_000, pollMs: 250 });
      return await window(
        name,
        () => page.evaluate(() => {
          const state = (globalThis as unknown as { imageBench: Sample }).imageBench;
          state.frames = 0;
          state.bytes = 0;
          state.arrivals.length = 0;
          state.latencies.length = 0;
        }),
        () => page.evaluate(() => {
          const { frames, bytes, arrivals, latencies, errors } = (globalThis as unknown as { imageBench: Sample }).imageBench;
          return { frames, bytes, arrivals, latencies, errors };
        }),
        published,
      );
    } finally {
      await page.close();
    }
  }

  async function nodeClientRun(name: string, published: () => number, ackWindow = 1): Promise<Result> {
    const sample: Sample = { frames: 0, bytes: 0, arrivals: [], latencies: [], errors: [] };
    const client = createRelayClient({ url: url.replace('http:', 'ws:') + 'ws', WebSocket: WebSocket as never, window: ackWindow });
    client.onError((error) => sample.errors.push(error.message));
    client.subscribe(BINARY_TOPIC, (event) => {
      if (event.kind !== 'frame' || event.replay) return;
      sample.frames++;
      sample.bytes += event.frame.byteLength;
      sample.latencies.push(performance.timeOrigin + performance.now() - event.frame.time);
    });
    try {
      return await window(
        name,
        async () => {
          sample.frames = 0;
          sample.bytes = 0;
          sample.latencies.length = 0;
        },
        async () => sample,
        published,
      );
    } finally {
      client.close();
    }
  }

  const results: Result[] = [];
  let legacy: Result | undefined;
  const viewed: { dtype: string; ceilingHz?: number; result: Result; cost: { computed: number; ms: number; ahead: number; replaced: number; deferred: number; sooner: number; shared: number; copies: number } }[] = [];
  let ceilingHz = Number.NaN;
  let fastPage: Result | undefined;
  let ceilingBesideWriterHz = Number.NaN;
  let fastReference: ReferenceResult | undefined;
  try {
    const ringFrames = (): number => source.stats[BINARY_TOPIC]?.frames ?? 0;
    await source.attach(BINARY_TOPIC, ringName);
    if (GROUPS.has('main')) results.push(await inBrowser('ring → binary frames → Chromium (webmon)', BINARY_TOPIC, ringFrames));
    if (GROUPS.has('bulk')) {
      // A/B, interleaved: the full-resolution page with the image on one connection and on the bulk worker.
      // The relay client takes binary topics on its worker only beside a topic that is not binary, so both
      // pages also subscribe to the small topic, on which nothing is published in this group.
      const rows: Record<'page' | 'worker', Result[]> = { page: [], worker: [] };
      for (let round = 1; round <= FAIRNESS_ROUNDS; round++) {
        for (const bulk of ['page', 'worker'] as const) rows[bulk].push(await inBrowser(`full resolution, ${bulk === 'page' ? 'one connection' : 'bulk worker'}, round ${round}`, BINARY_TOPIC, ringFrames, `&bulk=${bulk}&small=${SMALL_TOPIC}`));
      }
      console.log(`\n${TABLE_HEADER}`);
      for (const row of [...rows.page, ...rows.worker]) console.log(tableRow(row));
      const summary = (list: Result[]) => `${fixed(median(list.map((row) => row.receivedHz)))} Hz, age p50 ${fixed(median(list.map((row) => row.p50)))} / p99 ${fixed(median(list.map((row) => row.p99)))} ms`;
      console.log(`full resolution, writer at ${HZ} Hz, medians of ${FAIRNESS_ROUNDS} interleaved rounds: one connection ${summary(rows.page)}; bulk worker ${summary(rows.worker)}\n`);
    }
    if (GROUPS.has('main') || GROUPS.has('views')) {
      for (const dtype of VIEW_DTYPES) for (const viewWindow of VIEW_WINDOWS) {
        const views0 = relay.stats().views;
        const windowed = viewWindow === 1 ? '' : `, window ${viewWindow}`;
        const result = await inBrowser(`same, view mode: ${VIEW_EDGE}² canvas, area view, ${dtype}${windowed}`, BINARY_TOPIC, ringFrames, `&view=${VIEW_EDGE}&dtype=${dtype}&window=${viewWindow}`);
        const views1 = relay.stats().views;
        viewed.push({
          dtype: dtype + windowed,
          result,
          cost: {
            computed: views1.computed - views0.computed,
            ms: views1.computeMs - views0.computeMs,
            ahead: views1.computedAhead - views0.computedAhead,
            replaced: views1.replacedAhead - views0.replacedAhead,
            deferred: views1.deferredAhead - views0.deferredAhead,
            sooner: views1.sentSooner - views0.sentSooner,
            shared: views1.shared - views0.shared,
            copies: views1.sourceCopies - views0.sourceCopies,
          },
        });
      }
    }
    // The same Chromium with plain `ws`, closed loop, one message of each view's size in flight: what this
    // machine's browser takes at that size, measured beside the same writer.
    for (const dtype of viewed.length > 0 ? VIEW_DTYPES : []) {
      const bytes = VIEW_EDGE * VIEW_EDGE * (dtype === 'float32' ? 4 : dtype === 'uint8' ? 1 : 2);
      const hz = await chromiumCeiling(browser, bytes);
      for (const view of viewed) if (view.dtype.split(',')[0] === dtype) view.ceilingHz = hz;
    }
    if (GROUPS.has('main')) legacy = await inBrowser('same, page never acknowledges (1.1 client)', BINARY_TOPIC, ringFrames, '&window=0');

    if (GROUPS.has('throttled')) {
      // Each mode in turn: full resolution (4 MiB frames), then the view the image page asks for by default
      // (its canvas's size, float32): the same four windows each.
      for (const mode of THROTTLED_MODES) {
        const query = `topic=${BINARY_TOPIC}${mode.query}`;
        // A CPU-throttled page beside an unthrottled one on the same topic, and that unthrottled page alone
        // first (same run, same writer): does the slow page keep its frames young, and cost the other nothing?
        const [alone] = await pagesTogether([{ name: `unthrottled page alone (baseline), ${mode.name}`, query }], ringFrames);
        // Chromium's CPU throttling on Linux spins the throttled renderer's main thread in a signal handler
        // (third_party/blink/renderer/platform/scheduler/common/thread_cpu_throttler.cc): a 4× throttled tab
        // burns most of a core whatever it does, and on two cores that alone slows every other page. So the
        // unthrottled page is also measured beside a throttled tab that takes nothing (about:blank): what
        // webmon's delivery to the slow page costs the other page is the difference between those two.
        const idle = await openPageAt(browser, 'about:blank');
        let besideIdle: Result | undefined;
        try {
          await idle.send('Emulation.setCPUThrottlingRate', { rate: THROTTLE });
          [besideIdle] = await pagesTogether([{ name: `unthrottled page beside an idle tab throttled ${THROTTLE}×`, query }], ringFrames);
        } finally {
          await idle.close();
        }
        const [slow, beside] = await pagesTogether(
          [
            { name: `page CPU-throttled ${THROTTLE}× (DevTools protocol)`, query, throttle: THROTTLE },
            { name: 'unthrottled page beside it', query },
          ],
          ringFrames,
        );
        if (alone && besideIdle && slow && beside) reportThrottled({ mode: mode.name, alone, besideIdle, slow, beside });
        if (mode.query === '') {
          // The same two windows with no webmon code: plain ws, each page taking the newest ring record when
          // it has the previous one. What the goal asks of any delivery to these pages on this machine.
          source.detach(BINARY_TOPIC);
          try {
            const [refAlone] = await newestReference(browser, ringName, [1], true);
            const [refSlow, refBeside] = await newestReference(browser, ringName, [THROTTLE, 1], true);
            if (refAlone && refSlow && refBeside) reportThrottledReference(refAlone, refSlow, refBeside);
          } finally {
            await source.attach(BINARY_TOPIC, ringName);
          }
        }
      }
    }

    // Fairness in Chromium: a frame_time-like stream (60 Hz, publish wall time inside) on a page alone,
    // then on a page that also takes the saturating image topic (credit window 1).
    if (GROUPS.has('fairness')) {
      const smallTimer = setInterval(() => relay.publish(SMALL_TOPIC, { time: performance.timeOrigin + performance.now(), n: ++smallPublished }), 1000 / SMALL_HZ);
      try {
        // Rounds, each with its own baseline: a p99 of ~500 messages is their 5th worst, so one window's
        // ratio moves a lot from run to run (1.44–2.29× for the same code in one session); the median of the
        // rounds is the figure.
        // The three ways a page takes the image beside the small stream, in this order each round.
        const variants = [
          { key: 'page', page: 'the image topic, one page', query: 'bulk=page', how: '(one connection: a relay client without a bulk worker)' },
          { key: 'kept', page: 'the image topic in a worker, frames kept, one page', query: 'bulk=worker&borrow=0', how: "(the relay client's bulk worker, the page keeping its frames: each buffer moved to the page and freed by the page's garbage collector)" },
          { key: 'worker', page: 'the image topic in a worker, frames borrowed, one page', query: 'bulk=worker&borrow=1', how: "(the relay client's bulk worker with borrowFrames, as webmon pages do: the image on a connection of its own in a worker, bytes moved to the page and given back once handled)" },
        ] as const;
        const ratios = { page: [] as number[], kept: [] as number[], worker: [] as number[] };
        const imageHz = { page: [] as number[], kept: [] as number[], worker: [] as number[] };
        for (let round = 1; round <= FAIRNESS_ROUNDS; round++) {
          console.log(`fairness round ${round} of ${FAIRNESS_ROUNDS}`);
          const [smallAlone] = await pagesTogether([{ name: `${SMALL_TOPIC} alone on a page (baseline)`, query: `topic=&small=${SMALL_TOPIC}` }], ringFrames);
          for (const variant of variants) {
            const [withImage] = await pagesTogether([{ name: `${SMALL_TOPIC} + ${variant.page}`, query: `topic=${BINARY_TOPIC}&small=${SMALL_TOPIC}&${variant.query}` }], ringFrames);
            if (!smallAlone || !withImage) continue;
            ratios[variant.key].push(reportFairness({ alone: smallAlone, withImage, how: variant.how }));
            imageHz[variant.key].push(withImage.receivedHz);
          }
        }
        const line = (values: number[]) => `median ${fixed(median(values), 2)}× (rounds: ${values.map((value) => `${fixed(value, 2)}×`).join(', ')})`;
        const hz = (values: number[]) => values.map((value) => fixed(value)).join(', ');
        console.log(`fairness, ${FAIRNESS_ROUNDS} rounds: ${SMALL_TOPIC} p99 with the image / without — bulk worker, frames borrowed (webmon's pages) ${line(ratios.worker)}, image ${hz(imageHz.worker)} Hz; ` +
          `bulk worker, frames kept ${line(ratios.kept)}, image ${hz(imageHz.kept)} Hz; ` +
          `one connection ${line(ratios.page)}, image ${hz(imageHz.page)} Hz. Goal ≤ 1.5× (median, webmon's pages): ${median(ratios.worker) <= 1.5 ? 'met' : 'NOT met'}\n`);
      } finally {
        clearInterval(smallTimer);
      }
    }

    if (GROUPS.has('main')) {
      // The Node client before detaching: same publisher, no browser.
      const nodeResult = await nodeClientRun('ring → binary frames → Node client (no browser)', ringFrames);
      source.detach(BINARY_TOPIC);

      const stop = new AbortController();
      const base64 = { published: 0 };
      const baseline = publishBase64(relay, ringName, stop.signal, base64);
      // If the browser run below fails, the relay closes under the publisher: report that failure, not this one.
      baseline.catch(() => undefined);
      const base64Name = 'baseline: ring → base64 in JSON → Chromium';
      try {
        results.push(await inBrowser(base64Name, JSON_TOPIC, () => base64.published));
      } catch (error) {
        // On a heavily loaded machine the base64 page may not get one frame in two minutes: say so and go on.
        console.warn(`${base64Name}: ${(error as Error).message.split('\n')[0]}`);
        results.push({ name: `${base64Name} (failed)`, writerHz: Number.NaN, publishedHz: Number.NaN, receivedHz: Number.NaN, mbPerSecond: Number.NaN, p50: Number.NaN, p99: Number.NaN, nodeCpu: Number.NaN, smallP50: Number.NaN, smallP99: Number.NaN, smallCount: 0, smallSent: 0, smallMissing: 0, smallRange: [0, 0, 0, 0], inWindowHz: Number.NaN, relayAgeP50: Number.NaN, relayAgeP99: Number.NaN, pageLagP99: Number.NaN, pageLagMax: Number.NaN, relayLoopP99: Number.NaN, relayLoopMax: Number.NaN, machineBusyCores: Number.NaN });
      }
      stop.abort();
      await baseline;
      results.push(nodeResult);

      // The writer unthrottled: what the ring → relay path carries at most (the window's writer Hz is
      // measured on the first writer's ring, so read the second one's rate from what was sent).
      const fast = startWriter(true);
      try {
        const fastName = (await fast.waitFor(/ring (wmr_[0-9a-f]+)/, 60_000))[1] ?? '';
        await source.attach(BINARY_TOPIC, fastName);
        const unthrottled = await nodeClientRun('same, writer unthrottled, no acks (one frame re-sent)', () => source.stats[BINARY_TOPIC]?.frames ?? 0, 0);
        results.push({ ...unthrottled, writerHz: Number.NaN });
        source.detach(BINARY_TOPIC);
      } finally {
        await fast.stop();
      }
    }
    if (GROUPS.has('main') || GROUPS.has('ceiling')) {
      // The main group has detached the 60 Hz ring by now.
      if (!GROUPS.has('main')) source.detach(BINARY_TOPIC);
      ceilingHz = await chromiumCeiling(browser);
      // Full resolution against that ceiling: a writer faster than the page can take, so that the page, not
      // the writer, sets the rate (at 60 Hz the page takes every frame and the ceiling is never reached).
      const faster = startWriter(false, FAST_HZ);
      try {
        const fasterName = (await faster.waitFor(/ring (wmr_[0-9a-f]+)/, 60_000))[1] ?? '';
        await source.attach(BINARY_TOPIC, fasterName);
        const sent = (): number => source.stats[BINARY_TOPIC]?.frames ?? 0;
        fastPage = { ...(await inBrowser(`ring → binary frames → Chromium (webmon), writer at ${FAST_HZ} Hz`, BINARY_TOPIC, sent)), writerHz: Number.NaN };
        // The ceiling again with that writer and webmon's ring reader running beside it (no page on the
        // topic): the load the page had on the same two cores, less webmon's delivery to it.
        ceilingBesideWriterHz = await chromiumCeiling(browser);
        source.detach(BINARY_TOPIC);
        [fastReference] = await newestReference(browser, fasterName, [1], false);
      } finally {
        await faster.stop();
      }
    }
  } finally {
    await browser.close();
    probe.close();
    await source.close();
    await relay.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await writer.stop();
  }

  console.log(TABLE_HEADER);
  for (const r of [results[0], ...viewed.map((v) => v.result), legacy, ...results.slice(1)].filter((r): r is Result => r !== undefined)) console.log(tableRow(r));
  const [ring, base] = results;
  if (ring && base) {
    console.log(`\nring vs baseline in Chromium: ${fixed(ring.mbPerSecond / base.mbPerSecond, 2)}× the MB/s and Hz; age p50 ${fixed(ring.p50)} vs ${fixed(base.p50)} ms (${fixed(ring.p50 / base.p50, 2)}×), p99 ${fixed(ring.p99)} vs ${fixed(base.p99)} ms (${fixed(ring.p99 / base.p99, 2)}×)`);
    console.log(`goals (1024² float32 to a browser page): ≥ 300 MB/s → ${fixed(ring.mbPerSecond, 0)} MB/s ${ring.mbPerSecond >= 300 ? 'met' : 'NOT met'}; 60 Hz → ${fixed(ring.receivedHz)} Hz ${ring.receivedHz >= 59 ? 'met' : 'NOT met'}`);
  }
  if (ring && legacy) {
    console.log(`credits (window 1) vs a page that never acknowledges: age p50 ${fixed(ring.p50)} vs ${fixed(legacy.p50)} ms (${fixed(ring.p50 / legacy.p50, 2)}×), ` +
      `p99 ${fixed(ring.p99)} vs ${fixed(legacy.p99)} ms (${fixed(ring.p99 / legacy.p99, 2)}×); page ${fixed(ring.receivedHz)} vs ${fixed(legacy.receivedHz)} Hz; ` +
      `goal age p99 ≤ 2 × the page's frame interval (${fixed(2000 / ring.receivedHz)} ms): ${ring.p99 <= 2000 / ring.receivedHz ? 'met' : 'NOT met'}; ` +
      `age at the relay p50 / p99 ${fixed(ring.relayAgeP50)} / ${fixed(ring.relayAgeP99)} ms; page main thread late p99 / max ${fixed(ring.pageLagP99)} / ${fixed(ring.pageLagMax)} ms; ` +
      `relay event loop delayed p99 / max ${fixed(ring.relayLoopP99)} / ${fixed(ring.relayLoopMax)} ms`);
  }
  for (const { dtype, ceilingHz: viewCeiling, result: view, cost } of viewed) {
    if (ring) {
      console.log(`view mode (${VIEW_EDGE}² canvas, ${dtype}) vs full resolution: page ${fixed(view.receivedHz)} vs ${fixed(ring.receivedHz)} Hz ` +
        `(writer ${fixed(view.writerHz)} / ${fixed(ring.writerHz)} Hz), age p50 ${fixed(view.p50)} vs ${fixed(ring.p50)} ms, p99 ${fixed(view.p99)} vs ${fixed(ring.p99)} ms, ` +
        `${fixed(view.mbPerSecond, 0)} vs ${fixed(ring.mbPerSecond, 0)} MB/s`);
    } else console.log(`view mode (${VIEW_EDGE}² canvas, ${dtype}): page ${fixed(view.receivedHz)} Hz (writer ${fixed(view.writerHz)} Hz), age p50 ${fixed(view.p50)} ms, p99 ${fixed(view.p99)} ms, ${fixed(view.mbPerSecond, 0)} MB/s`);
    console.log(`  view cost on the relay: ${cost.computed} views computed, ${fixed(cost.computed > 0 ? cost.ms / cost.computed : Number.NaN, 2)} ms each; ` +
      `${cost.ahead} of them computed ahead (when published), ${cost.replaced} values replaced before their turn, ` +
      `${cost.deferred} put off to the page's pace, ${cost.shared} frames taken ready-made, ${cost.sooner} sent sooner (an older value's view in the making); ` +
      `${cost.copies} values copied for the view threads (0: the ring's frames are read in shared memory)`);
    console.log(`  goals (view mode, ${dtype}): page Hz ≥ 0.9 × writer Hz → ${fixed(view.receivedHz / view.writerHz, 2)}× ${view.receivedHz >= 0.9 * view.writerHz ? 'met' : 'NOT met'}; ` +
      `age p99 < 100 ms → ${fixed(view.p99)} ms ${view.p99 < 100 ? 'met' : 'NOT met'}` +
      (viewCeiling === undefined ? '' : `; this Chromium with plain ws, closed loop, one ${dtype.split(',')[0]} view's bytes in flight: ${fixed(viewCeiling)} Hz (page ${fixed(view.receivedHz / viewCeiling, 2)}× that)`));
  }
  const node = results[2];
  if (node) console.log(`without a browser (Node client): ${fixed(node.mbPerSecond, 0)} MB/s at ${fixed(node.receivedHz)} Hz, age p50 ${fixed(node.p50)} ms, p99 ${fixed(node.p99)} ms`);
  const most = results[3];
  if (most) console.log(`ring → relay at most (writer unthrottled, Node client): ${fixed(most.mbPerSecond, 0)} MB/s at ${fixed(most.receivedHz)} Hz`);
  console.log(`this Chromium with plain ws, closed loop (one 4 MiB message in flight): ${fixed(ceilingHz)} Hz = ${fixed((ceilingHz * FRAME_BYTES) / 1e6, 0)} MB/s${ring ? ` (webmon's page with credits, writer at ${HZ} Hz: ${fixed((ring.mbPerSecond * 1e6) / (ceilingHz * FRAME_BYTES), 2)}× that)` : ''}`);
  if (fastPage) {
    const ratio = fastPage.receivedHz / ceilingHz;
    const interval = 1000 / fastPage.receivedHz;
    const besideRatio = fastPage.receivedHz / ceilingBesideWriterHz;
    console.log(`full resolution, writer at ${FAST_HZ} Hz (sent ${fixed(fastPage.publishedHz)} Hz): page ${fixed(fastPage.receivedHz)} Hz vs plain ws ${fixed(ceilingHz)} Hz = ${fixed(ratio, 2)}× (goal ≥ 1: ${ratio >= 1 ? 'met' : 'NOT met'}); ` +
      `vs plain ws with that writer and the ring reader running beside it ${fixed(ceilingBesideWriterHz)} Hz = ${fixed(besideRatio, 2)}× (${besideRatio >= 1 ? 'met' : 'NOT met'}); ` +
      `age p50 / p99 ${fixed(fastPage.p50)} / ${fixed(fastPage.p99)} ms against 2 × its frame interval ${fixed(2 * interval)} ms (${fastPage.p99 <= 2 * interval ? 'met' : 'NOT met'})`);
    if (fastReference) {
      const own = 2000 / fastReference.hz;
      console.log(`  reference, same writer: plain ws sending the newest ring record on each request (no relay, no credits, no page framework): ${fixed(fastReference.hz)} Hz, ` +
        `age p50 / p99 ${fixed(fastReference.p50)} / ${fixed(fastReference.p99)} ms against 2 × its own interval ${fixed(own)} ms (${fastReference.p99 <= own ? 'within' : 'NOT within'}); ` +
        `webmon's page / reference: ${fixed(fastPage.receivedHz / fastReference.hz, 2)}× the Hz, age p99 ${fixed(fastPage.p99 / fastReference.p99, 2)}×`);
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
