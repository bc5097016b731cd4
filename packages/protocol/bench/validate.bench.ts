// What reading a server message costs a client, side by side in one run (interleaved rounds, medians):
// JSON.parse alone (the floor), then JSON.parse + the zod schema (the client's path before the hand-written
// checks), then parseServerMessage (JSON.parse + the hand-written check). Frame headers likewise.
// Machines are noisy: compare the ratios, not the nanoseconds.
import { checkFrameHeader } from '../src/fast-check.js';
import { FrameHeaderSchema, ServerMessageSchema, parseServerMessage } from '../src/index.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);

function timePerOp(fn: () => unknown, minMs = 100): number {
  let iterations = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    for (let i = 0; i < 200; i++) fn();
    iterations += 200;
    elapsed = performance.now() - start;
  } while (elapsed < minMs);
  return (elapsed * 1e6) / iterations; // ns
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function compare(name: string, text: string, viaZod: (value: unknown) => unknown, viaChecks: (text: string) => unknown): void {
  const parse: number[] = [];
  const zod: number[] = [];
  const checks: number[] = [];
  for (let round = 0; round < rounds; round++) {
    parse.push(timePerOp(() => JSON.parse(text)));
    zod.push(timePerOp(() => viaZod(JSON.parse(text))));
    checks.push(timePerOp(() => viaChecks(text)));
  }
  const [p, z, c] = [median(parse), median(zod), median(checks)];
  console.log(
    `${name.padEnd(34)} ${String(text.length).padStart(6)} B | JSON.parse ${p.toFixed(0).padStart(7)} ns | + zod ${z.toFixed(0).padStart(7)} ns (${(z / p).toFixed(2)}×) | ` +
      `+ hand-written ${c.toFixed(0).padStart(7)} ns (${(c / p).toFixed(2)}×) | ${(1e9 / z).toFixed(0).padStart(8)} → ${(1e9 / c).toFixed(0).padStart(8)} msg/s`,
  );
}

const zodServer = (value: unknown) => {
  if (!ServerMessageSchema.safeParse(value).success) throw new Error('invalid');
};

/**
 * The relay client's own shortcut for `data` before the hand-written checks (as it was in its client.ts):
 * the envelope by hand, the payload not walked at all (so a payload holding 1e999 = Infinity got through).
 */
function oldDataShortcut(text: string): unknown {
  const value = JSON.parse(text) as Record<string, unknown>;
  const { type, topic, seq, time, payload } = value;
  if (type !== 'data' || typeof topic !== 'string' || topic.length > 128 || !/^[A-Za-z0-9_.:/-]+$/.test(topic)) throw new Error('fallback');
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0 || typeof time !== 'number' || !(time >= 0) || payload === undefined) throw new Error('fallback');
  let keys = 0;
  for (const key in value) if (Object.hasOwn(value, key)) keys += 1;
  if (keys !== 5) throw new Error('fallback');
  return { type, topic, seq, time, payload };
}

function compareShortcut(name: string, text: string): void {
  const old: number[] = [];
  const now: number[] = [];
  for (let round = 0; round < rounds; round++) {
    old.push(timePerOp(() => oldDataShortcut(text)));
    now.push(timePerOp(() => parseServerMessage(text)));
  }
  const [o, n] = [median(old), median(now)];
  console.log(`${name.padEnd(34)} ${String(text.length).padStart(6)} B | old client shortcut ${o.toFixed(0).padStart(7)} ns | parseServerMessage ${n.toFixed(0).padStart(7)} ns (${(n / o).toFixed(2)}×)`);
}

const small = JSON.stringify({ type: 'data', topic: 'bench', seq: 123_456, time: Date.now(), payload: { t: Date.now(), i: 42, pad: 'x'.repeat(120) } });
const tiles = Array.from({ length: 40 }, (_, i) => [i % 8, Math.floor(i / 8)]);
const tilePayload = { layers: { '140234': { tile_state: { seen: tiles, corners: [[0, 0], [512, 512]] }, tile_config: { base_shape: [4096, 4096], image_shape: [1024, 1024], shape_in_tiles: [16, 16], tile_size: 64, level_index: 2 } } } };
const nested = JSON.stringify({ type: 'data', topic: 'source.layers', seq: 9, time: Date.now(), payload: tilePayload });
const hello = JSON.stringify({
  type: 'hello', protocol: 'webmon.v1', version: '1.1.0', sessionId: 'b3f1c1d2', time: Date.now(),
  topics: Array.from({ length: 20 }, (_, i) => ({ name: `source.topic_${i}`, mode: i % 2 ? 'latest' : 'stream', schema: 'webmon.v1/json', replayMs: 10_000 })),
});
const header = JSON.stringify({ topic: 'camera.frame', seq: 8, time: Date.now(), dtype: 'uint16', shape: [512, 512], byteLength: 512 * 512 * 2, meta: { limits: [0, 4095] } });

console.log(`@webmon/protocol: reading server messages, zod vs hand-written checks (${rounds} interleaved rounds, medians)`);
compare('data, ~200 B', small, zodServer, parseServerMessage);
compare('data, 40-tile payload', nested, zodServer, parseServerMessage);
compare('hello, 20 topics', hello, zodServer, parseServerMessage);
compare(
  'frame header (decodeFrame check)',
  header,
  (value) => {
    if (!FrameHeaderSchema.safeParse(value).success) throw new Error('invalid');
  },
  (text) => {
    if (checkFrameHeader(JSON.parse(text)) !== undefined) throw new Error('invalid');
  },
);

console.log('\n`data` against the relay client\'s old envelope-only shortcut (which skipped the payload):');
compareShortcut('data, ~200 B', small);
compareShortcut('data, 40-tile payload', nested);
