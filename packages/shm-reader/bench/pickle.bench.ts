/**
 * Pickle decode speed on what a napari client receives, side by side in one run with:
 *  - `pickleparser` (npm, the most complete JS unpickler we found) as the baseline. It cannot turn
 *    numpy arrays into typed arrays (it returns their raw reduce state), so it is compared on the
 *    plain-data form of the same poll value (arrays as nested lists), and on the numpy form only
 *    for parse speed;
 *  - `JSON.parse` of the equivalent JSON text, as a reference point for "how fast can a JS
 *    structure of this shape be built at all".
 * Plus encodePickle of a manager request against JSON.stringify of the same request.
 *
 * Inputs come from test/fixtures/pickles/make_bench_fixtures.py (CPython 3.11 ForkingPickler,
 * protocol 4, numpy 2): the napari-style `poll` value (int layer id → {seen: int64 (40, 2),
 * corners: float64 (2, 2), tile_config}) and a small `frame_time` message.
 *
 *   pnpm --filter @webmon/shm-reader build && tsx bench/pickle.bench.ts   (WEBMON_BENCH_MS=<ms per measurement>, default 300)
 *
 * It times the built package (dist/), not the sources through tsx: the bundle is what ships, and it
 * differs where it matters here, since the bundler writes the `const enum` opcodes into the decoder's
 * `switch` as numbers (a jump table in V8) where a file-by-file transform leaves property loads.
 */
import { readFileSync } from 'node:fs';
import { Parser } from 'pickleparser';
import type { PyValue } from '../src/pickle/index.js';

// Typed from the sources (always present, so this file typechecks before a build), loaded from the bundle.
type Built = typeof import('../src/index.js');
const built = (await import(new URL('../dist/index.js', import.meta.url).href)) as Built;
const { decodePickle, encodePickle, NdArray, pyTuple } = built;

const BUDGET_MS = Number(process.env['WEBMON_BENCH_MS'] ?? 300);
const FIXTURES = new URL('../test/fixtures/pickles/', import.meta.url);
const bin = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, FIXTURES)));
const text = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');

/**
 * Times several contenders on the same job with interleaved rounds (A B C A B C ...), so a load spike
 * on this shared machine hits all of them alike. Each round runs a batch sized to ~1/40 of the budget;
 * returns the median and the best time per call of each contender.
 */
function compare(fns: (() => unknown)[]): { median: number; best: number }[] {
  const batches = fns.map((fn) => {
    for (let i = 0; i < 300; i++) fn(); // warm-up (JIT)
    let batch = 1;
    for (;;) {
      const t0 = performance.now();
      for (let i = 0; i < batch; i++) fn();
      if (performance.now() - t0 > BUDGET_MS / 40 || batch > 1e7) return batch;
      batch *= 2;
    }
  });
  const samples: number[][] = fns.map(() => []);
  const end = performance.now() + BUDGET_MS * fns.length;
  while ((samples[0] as number[]).length < 7 || performance.now() < end) {
    fns.forEach((fn, k) => {
      const batch = batches[k] as number;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < batch; i++) fn();
      (samples[k] as number[]).push(Number(process.hrtime.bigint() - t0) / batch);
    });
  }
  return samples.map((list) => {
    list.sort((x, y) => x - y);
    return { median: list[Math.floor(list.length / 2)] as number, best: list[0] as number };
  });
}

const fmt = (ns: number): string => (ns < 1e3 ? `${ns.toFixed(0)} ns` : ns < 1e6 ? `${(ns / 1e3).toFixed(2)} µs` : `${(ns / 1e6).toFixed(2)} ms`);

const parser = new Parser({ unpicklingTypeOfDictionary: 'Map', unpicklingTypeOfSet: 'Set' });

const pollNumpy = bin('bench_poll_numpy.bin');
const pollPlain = bin('bench_poll_plain.bin');
const pollJson = text('bench_poll.json');
const frameTime = bin('bench_frame_time.bin');
const frameTimeJson = text('bench_frame_time.json');

// Sanity: every contender decodes its input to the expected shape before it is timed.
const decoded = decodePickle(pollNumpy) as PyValue[];
const layer = (((decoded[1] as Map<PyValue, PyValue>).get('poll') as Map<PyValue, PyValue>).get('layers') as Map<PyValue, PyValue>).get(140245) as Map<PyValue, PyValue>;
const seen = layer.get('seen');
if (!(seen instanceof NdArray) || seen.shape.join('x') !== '40x2' || !(seen.data instanceof BigInt64Array)) throw new Error('poll did not decode');
const viaParser = parser.parse(pollPlain) as unknown[];
if (!(viaParser[1] instanceof Map)) throw new Error('pickleparser did not decode the plain poll');
JSON.parse(pollJson);

console.log('# pickle.bench: decode a napari poll reply and a frame_time message');
console.log(`node ${process.version}; ${BUDGET_MS} ms per measurement, interleaved rounds; inputs: poll ${pollNumpy.length} B (numpy), ${pollPlain.length} B (plain), JSON ${pollJson.length} B; frame_time ${frameTime.length} B\n`);

interface Row {
  what: string;
  ours: { median: number; best: number };
  baseline?: { median: number; best: number };
  baselineName?: string;
  json: { median: number; best: number };
}

function row(what: string, ours: () => unknown, json: () => unknown, baselineName?: string, baseline?: () => unknown): Row {
  const [o, j, b] = compare(baseline ? [ours, json, baseline] : [ours, json]);
  return { what, ours: o!, json: j!, baselineName, baseline: b };
}

const request = pyTuple('7f00deadbeef', 'put', pyTuple({ command: 'set_frame', frame: 1234, t: 0.5, names: ['a', 'b'] }), {});
const requestJson = ['7f00deadbeef', 'put', [{ command: 'set_frame', frame: 1234, t: 0.5, names: ['a', 'b'] }], {}];
const rows: Row[] = [
  row('poll (numpy arrays)', () => decodePickle(pollNumpy), () => JSON.parse(pollJson), 'pickleparser (no typed arrays)', () => parser.parse(pollNumpy)),
  row('poll (plain lists)', () => decodePickle(pollPlain), () => JSON.parse(pollJson), 'pickleparser', () => parser.parse(pollPlain)),
  row('frame_time message', () => decodePickle(frameTime), () => JSON.parse(frameTimeJson), 'pickleparser', () => parser.parse(frameTime)),
  row('encode put() request', () => encodePickle(request), () => JSON.stringify(requestJson)),
];

const table = [['case', 'ours (median/best)', 'baseline', 'baseline (median/best)', 'baseline / ours', 'JSON (median/best)', 'ours / JSON']];
const pair = (m: { median: number; best: number }): string => `${fmt(m.median)} / ${fmt(m.best)}`;
for (const r of rows) {
  table.push([
    r.what,
    pair(r.ours),
    r.baselineName ?? '(no npm pickle writer)',
    r.baseline ? pair(r.baseline) : '-',
    r.baseline ? `${(r.baseline.median / r.ours.median).toFixed(2)}x` : '-',
    pair(r.json),
    `${(r.ours.median / r.json.median).toFixed(2)}x`,
  ]);
}
const widths = table[0]!.map((_, i) => Math.max(...table.map((line) => line[i]!.length)));
for (const line of table) console.log(line.map((cell, i) => cell.padEnd(widths[i]!)).join('  '));
console.log('\nratios use medians of interleaved rounds. baseline / ours > 1: decodePickle is faster than pickleparser; ours / JSON: cost relative to JSON.parse (or JSON.stringify for the encoder) of the same data.');
console.log('pickleparser on the numpy poll only walks the opcodes: it returns numpy reduce state, not arrays (and it mis-decodes negative or > 8-byte LONG1 ints, see docs/pickle.md).');
