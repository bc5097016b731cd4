/**
 * `pnpm --filter @webmon/relay bench:view-math`: the cost of computing one array view (`computeView`, on
 * whatever thread calls it), per source dtype, view dtype and resampling, against a baseline measured in
 * the same run: one plain copy of the source (`Float32Array.prototype.set` of a 1024² float32 array —
 * native memcpy, the least any view of it could cost). Printed: median ms per view and the ratio
 * view / copy, the steadier figure on a shared machine.
 *
 * The cases alternate, round after round, so a burst of load from other processes lands on all of them;
 * each case's figure is the median of its rounds (each round: the mean of a batch of calls).
 *   VIEW_MATH_ROUNDS   rounds (default 15)
 *   VIEW_MATH_BATCH    calls per case and round (default 10)
 *   VIEW_MATH_EDGE     source edge in pixels (default 1024)
 */
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { canonicalView, type ViewDType } from '@webmon/protocol';
import { computeView, planView } from '../src/view-math.js';

const envNumber = (name: string, fallback: number): number => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};
const rounds = envNumber('VIEW_MATH_ROUNDS', 15);
const batch = envNumber('VIEW_MATH_BATCH', 10);
const edge = envNumber('VIEW_MATH_EDGE', 1024);

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** Source arrays as a producer publishes them: raw bytes of a smooth picture with noise (values vary, no NaN). */
function source(dtype: 'float32' | 'float64' | 'uint16' | 'uint8'): Uint8Array {
  const count = edge * edge;
  const value = (i: number): number => 0.5 + 0.4 * Math.sin(i * 0.0007) * Math.cos((i % edge) * 0.013) + 0.1 * Math.random();
  const typed =
    dtype === 'float32' ? Float32Array.from({ length: count }, (_, i) => value(i) * 1000)
    : dtype === 'float64' ? Float64Array.from({ length: count }, (_, i) => value(i) * 1000)
    : dtype === 'uint16' ? Uint16Array.from({ length: count }, (_, i) => Math.floor(value(i) * 65535))
    : Uint8Array.from({ length: count }, (_, i) => Math.floor(value(i) * 255));
  return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
}

interface Case {
  name: string;
  run: () => void;
  samples: number[];
}

const sources = { float32: source('float32'), float64: source('float64'), uint16: source('uint16'), uint8: source('uint8') };
const copySource = new Float32Array(sources.float32.buffer, sources.float32.byteOffset, edge * edge);
const copyTarget = new Float32Array(edge * edge);
const baseline: Case = { name: `copy of the ${edge}² float32 source (baseline)`, run: () => copyTarget.set(copySource), samples: [] };

const viewCase = (dtype: keyof typeof sources, out: ViewDType, resample: 'area' | 'block', maxEdge: number): Case => {
  const plan = planView([edge, edge], dtype, 'C', canonicalView({ maxShape: [maxEdge, maxEdge], dtype: out, resample }))!;
  const bytes = sources[dtype];
  const shape = plan.shape.join('×');
  return { name: `${dtype} → ${plan.resample} ${shape} ${out}`, run: () => computeView(bytes, dtype, plan, out), samples: [] };
};

const cases: Case[] = [
  viewCase('float32', 'float32', 'area', 800),
  viewCase('float32', 'float16', 'area', 800),
  viewCase('float32', 'uint8', 'area', 800),
  viewCase('float32', 'uint16', 'area', 800),
  viewCase('float32', 'float32', 'block', 800),
  viewCase('float32', 'uint8', 'block', 800),
  viewCase('float32', 'float32', 'area', 300),
  viewCase('uint16', 'float32', 'area', 800),
  viewCase('uint8', 'uint8', 'area', 800),
  viewCase('float64', 'float32', 'area', 800),
];

// Warm-up: every case a few times, all dtypes in one process, as a relay thread serving several pages is.
for (const each of [baseline, ...cases]) for (let i = 0; i < 5; i++) each.run();
for (let round = 0; round < rounds; round++) {
  for (const each of [baseline, ...cases]) {
    const started = performance.now();
    for (let i = 0; i < batch; i++) each.run();
    each.samples.push((performance.now() - started) / batch);
  }
}

const copyMs = median(baseline.samples);
const fmt = (value: number, digits = 2): string => value.toFixed(digits);
console.log(`@webmon/relay view arithmetic — Node ${process.version}, ${availableParallelism()} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}, ${new Date().toISOString()}`);
console.log(`medians of ${rounds} alternating rounds of ${batch} calls each\n`);
console.log(`${'view'.padEnd(44)} | ${'ms'.padStart(7)} | view / copy`);
console.log(`${baseline.name.padEnd(44)} | ${fmt(copyMs).padStart(7)} | 1.00`);
for (const each of cases) {
  const ms = median(each.samples);
  console.log(`${each.name.padEnd(44)} | ${fmt(ms).padStart(7)} | ${fmt(ms / copyMs, 1)}`);
}
