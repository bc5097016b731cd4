/**
 * `pnpm --filter @webmon/relay bench:views`: array views computed on the relay's event loop (inline,
 * `viewWorkers: 0`, as in 1.3) against the view pool's thread (`viewWorkers: 1`), in one run, alternating.
 *
 * Per mode: a relay publishes 1024² float32 frames at 30 Hz and a small JSON `frame_time` at 60 Hz; one page
 * (a `ws` client in this process) takes every frame as an 800 × 800 area view, acknowledging each
 * (window 1); another takes `frame_time`. Printed: view computation ms (where it ran), the relay
 * process's event-loop delay (`monitorEventLoopDelay`) p50 / p99 / max while views are computed, and
 * `frame_time` publish → page p50 / p99 — then inline / thread ratios.
 *   VIEW_BENCH_SECONDS  seconds per mode and round (default 4)
 *   VIEW_BENCH_ROUNDS   alternating rounds; medians reported (default 3)
 *   VIEW_BENCH_EDGE     source edge in pixels (default 1024)
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { availableParallelism } from 'node:os';
import WebSocket from 'ws';
import { decodeFrame } from '@webmon/protocol';
import { createRelay } from '../src/index.js';

const envNumber = (name: string, fallback: number): number => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};
const seconds = envNumber('VIEW_BENCH_SECONDS', 4);
const rounds = envNumber('VIEW_BENCH_ROUNDS', 3);
const edge = envNumber('VIEW_BENCH_EDGE', 1024);

interface Result {
  views: number;
  viewMs: number;
  loopP50: number;
  loopP99: number;
  loopMax: number;
  frameTimeP50: number;
  frameTimeP99: number;
  frameTimes: number;
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
};
const median = (values: number[]): number => percentile(values, 50);

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, ['webmon.v1']);
    socket.once('message', () => resolve(socket)); // hello
    socket.once('error', reject);
  });
}

async function run(viewWorkers: number): Promise<Result> {
  const relay = createRelay({
    heartbeatMs: 0,
    viewWorkers,
    topics: [
      { name: 'image', mode: 'latest', binary: true },
      { name: 'frame_time', mode: 'latest' },
    ],
  });
  const { url } = await relay.listen();
  const frames = [0, 1].map((k) => Float32Array.from({ length: edge * edge }, (_, i) => Math.sin(i * 0.001 + k) * 100));
  const imagePage = await open(url);
  imagePage.send(JSON.stringify({ type: 'subscribe', topics: ['image'], window: 1, view: { maxShape: [800, 800], resample: 'area' } }));
  imagePage.on('message', (data, isBinary) => {
    if (!isBinary) return;
    const frame = decodeFrame(new Uint8Array(data as Buffer));
    imagePage.send(JSON.stringify({ type: 'handled', topic: 'image', seq: frame.seq }));
  });
  const timePage = await open(url);
  timePage.send(JSON.stringify({ type: 'subscribe', topics: ['frame_time'] }));
  const latencies: number[] = [];
  timePage.on('message', (data, isBinary) => {
    if (isBinary) return;
    const message = JSON.parse(String(data)) as { type: string; topic?: string; payload?: { at: number } };
    if (message.type === 'data' && message.topic === 'frame_time' && message.payload !== undefined) latencies.push(performance.now() - message.payload.at);
  });
  // Warm-up: the first view starts the thread; not measured.
  relay.publishFrame('image', { dtype: 'float32', shape: [edge, edge] }, frames[0]!);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const before = relay.stats().views;
  latencies.length = 0;
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  let n = 0;
  const image = setInterval(() => relay.publishFrame('image', { dtype: 'float32', shape: [edge, edge] }, frames[n++ % 2]!), 1000 / 30);
  const tick = setInterval(() => relay.publish('frame_time', { at: performance.now() }), 1000 / 60);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  clearInterval(image);
  clearInterval(tick);
  delay.disable();
  const after = relay.stats().views;
  imagePage.terminate();
  timePage.terminate();
  await relay.close();
  const views = after.computed - before.computed;
  return {
    views,
    viewMs: (after.computeMs - before.computeMs) / Math.max(1, views),
    loopP50: delay.percentile(50) / 1e6,
    loopP99: delay.percentile(99) / 1e6,
    loopMax: delay.max / 1e6,
    frameTimeP50: percentile(latencies, 50),
    frameTimeP99: percentile(latencies, 99),
    frameTimes: latencies.length,
  };
}

console.log(`@webmon/relay view benchmark — Node ${process.version}, ${availableParallelism()} cores, ${new Date().toISOString()}`);
console.log(`${edge}² float32 at 30 Hz → one page's 800 × 800 area view (window 1), frame_time at 60 Hz to another page; ${seconds} s per mode, medians of ${rounds} alternating rounds\n`);
const results: Record<'inline' | 'thread', Result[]> = { inline: [], thread: [] };
for (let round = 0; round < rounds; round += 1) {
  results.inline.push(await run(0));
  results.thread.push(await run(1));
}
const summary = (list: Result[]): Result => ({
  views: median(list.map((r) => r.views)),
  viewMs: median(list.map((r) => r.viewMs)),
  loopP50: median(list.map((r) => r.loopP50)),
  loopP99: median(list.map((r) => r.loopP99)),
  loopMax: median(list.map((r) => r.loopMax)),
  frameTimeP50: median(list.map((r) => r.frameTimeP50)),
  frameTimeP99: median(list.map((r) => r.frameTimeP99)),
  frameTimes: median(list.map((r) => r.frameTimes)),
});
const inline = summary(results.inline);
const thread = summary(results.thread);
const f = (value: number, digits = 1): string => value.toFixed(digits);
console.log('mode    | views | view ms (where computed) | event-loop delay p50 / p99 / max ms | frame_time p50 / p99 ms (n)');
for (const [name, r] of [['inline', inline], ['thread', thread]] as const) {
  console.log(`${name.padEnd(7)} | ${String(r.views).padStart(5)} | ${f(r.viewMs).padStart(24)} | ${`${f(r.loopP50)} / ${f(r.loopP99)} / ${f(r.loopMax)}`.padStart(35)} | ${f(r.frameTimeP50)} / ${f(r.frameTimeP99)} (${r.frameTimes})`);
}
console.log(`\ninline / thread: event-loop delay p99 ${f(inline.loopP99 / thread.loopP99, 2)}×, frame_time p99 ${f(inline.frameTimeP99 / thread.frameTimeP99, 2)}×, view ms ${f(inline.viewMs / thread.viewMs, 2)}× (the thread shares the same cores: its view ms is not free CPU, it is time off the event loop)`);
