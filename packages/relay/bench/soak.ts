/**
 * Soak: 60 Hz publishing (a layer poll, frame_time, load_chunk and a 256 KiB image) to 10 clients, one
 * of them frozen (SIGSTOP: it never reads again). The server's RSS must stay flat: the frozen client is
 * held to its budget, everything else flows.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRelay } from '../src/index.js';
import { startClients } from './child.js';

export interface SoakResult {
  seconds: number;
  clients: number;
  publishedPerTopic: number;
  rssStartMiB: number;
  rssEndMiB: number;
  rssPeakMiB: number;
  /** (end − start) / start of the RSS after warm-up, in percent. */
  rssGrowthPercent: number;
  /** RSS (MiB) sampled at every tenth of the run. */
  rssTrace: number[];
  /** Bytes the frozen client held at the end (in flight + parked) and its budget. */
  stalledHeldBytes: number;
  stalledBudgetBytes: number;
  stalledDropped: number;
  /** Messages the slowest reading client received of those published on its topics. */
  readersReceivedRatio: number;
}

const MiB = 2 ** 20;

export async function runSoak(seconds: number, onProgress?: (line: string) => void): Promise<SoakResult> {
  const budget = { highWaterMark: MiB, lowWaterMark: 256 * 1024, maxQueuedMessages: 4096, maxQueuedBytes: 4 * MiB };
  const relay = createRelay({
    topics: [
      { name: 'demo.state', mode: 'latest' as const, schema: 'demo/state' },
      { name: 'demo.ticks', mode: 'stream' as const, schema: 'demo/tick', replayMs: 10_000 },
      { name: 'demo.loads', mode: 'stream' as const, replayMs: 10_000 },
      { name: 'demo.image', mode: 'latest', binary: true },
    ],
    ...budget,
    heartbeatMs: 0, // keep the frozen client connected for the whole run (a heartbeat would drop it)
  });
  const { url } = await relay.listen();
  // The same stand-in page the backpressure tests freeze with SIGSTOP.
  const script = fileURLToPath(new URL('../test/fixtures/stallable-client.mjs', import.meta.url));
  const stalled = spawn(process.execPath, [script, url, 'demo.state,demo.ticks,demo.loads,demo.image'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stalledOutput = '';
  stalled.stdout.on('data', (chunk: Buffer) => {
    stalledOutput += chunk.toString();
  });
  const readers = await startClients('relay', url, 9, 'demo.ticks,demo.state,demo.loads,demo.image');
  const ticks = Math.round(seconds * 60);
  const samples: number[] = [];
  const image = new Uint8Array(256 * 1024);
  try {
    while (!stalledOutput.includes('"type":"ack"')) await new Promise((resolve) => setTimeout(resolve, 20));
    stalled.kill('SIGSTOP');
    const layers = { layers: Object.fromEntries(Array.from({ length: 8 }, (_, index) => [String(140_000_000_000 + index), {
      tile_state: { seen: Array.from({ length: 48 }, (_, tile) => [tile >> 3, tile & 7]), corners: [[0, 0], [4096, 4096]] },
      tile_config: { base_shape: [65_536, 65_536], image_shape: [4096, 4096], shape_in_tiles: [16, 16], tile_size: 256, level_index: 4 },
    }])) };
    const start = performance.now();
    let nextSample = start;
    for (let tick = 0; tick < ticks; tick += 1) {
      const time = Date.now() / 1000;
      relay.publish('demo.state', layers);
      // `t`/`i` let the reading clients count and time it (extra fields are allowed by the schema).
      relay.publish('demo.ticks', { time, delta_ms: 16.7, t: performance.timeOrigin + performance.now(), i: tick });
      relay.publish('demo.loads', { time, num_bytes: 262_144, load_ms: 3.2 });
      image.fill(tick % 256);
      // A fresh buffer per frame, as a producer would hand over new pixels.
      relay.publishFrame('demo.image', { dtype: 'uint8', shape: [512, 512] }, image.slice());
      const now = performance.now();
      if (now >= nextSample) {
        samples.push(process.memoryUsage().rss);
        nextSample += 1000;
        if (samples.length % 30 === 0) onProgress?.(`  soak ${samples.length}/${Math.round(seconds)} s: rss ${(samples.at(-1)! / MiB).toFixed(1)} MiB`);
      }
      const due = start + ((tick + 1) * 1000) / 60;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
    }
    const published = ticks;
    await readers.until((progress) => progress.minReceived >= published);
    const stats = relay.stats().clients.find((client) => client.id === 'c1');
    // Warm-up is the first fifth: it covers the frozen client's queue filling to its cap (4096 messages
    // at 120/s ≈ 34 s), the 10 s replay windows and V8 growing its heap to steady state. Then the mean
    // of the next tenth is compared with the mean of the last tenth.
    const tenth = Math.max(1, Math.floor(samples.length / 10));
    const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
    const startRss = mean(samples.slice(2 * tenth, 3 * tenth));
    const endRss = mean(samples.slice(-tenth));
    return {
      seconds: (performance.now() - start) / 1000,
      clients: 10,
      publishedPerTopic: published,
      rssStartMiB: startRss / MiB,
      rssEndMiB: endRss / MiB,
      rssPeakMiB: Math.max(...samples) / MiB,
      rssGrowthPercent: ((endRss - startRss) / startRss) * 100,
      rssTrace: samples.filter((_, index) => index % tenth === 0).map((rss) => rss / MiB),
      stalledHeldBytes: stats ? stats.inflightBytes + stats.queuedBytes : Number.NaN,
      stalledBudgetBytes: budget.highWaterMark + 256 * 1024 + budget.maxQueuedBytes,
      stalledDropped: stats?.droppedMessages ?? Number.NaN,
      readersReceivedRatio: readers.progress.minReceived / published,
    };
  } finally {
    stalled.kill('SIGCONT');
    stalled.kill('SIGKILL');
    readers.child.kill();
    await relay.close();
  }
}
