// Decode + validate vs JSON.parse alone, side by side in one run. Goal: validation adds less than one
// JSON.parse worth of time (ratio (parse+validate)/parse < 2).
import { readFileSync } from 'node:fs';
import { FrameTimeSchema, PollSchema, parseNapariMessage, parsePoll } from '../src/index.js';

const samples = JSON.parse(readFileSync(new URL('../test/fixtures/napari-samples.json', import.meta.url), 'utf8'));
const pollText = JSON.stringify(samples.poll);
const frameTimeText = JSON.stringify(samples.frame_time);
const rounds = Number(process.env.BENCH_ROUNDS ?? 7);

function timePerOp(fn: () => unknown, minMs = 150): number {
  let iterations = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    for (let i = 0; i < 500; i++) fn();
    iterations += 500;
    elapsed = performance.now() - start;
  } while (elapsed < minMs);
  return (elapsed * 1e6) / iterations; // ns
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function compare(name: string, text: string, validate: (value: unknown) => unknown, isGoal = true): void {
  const parseOnly: number[] = [];
  const parseAndValidate: number[] = [];
  for (let round = 0; round < rounds; round++) {
    // Interleave so both see the same machine load.
    parseOnly.push(timePerOp(() => JSON.parse(text)));
    parseAndValidate.push(timePerOp(() => validate(JSON.parse(text))));
  }
  const base = median(parseOnly);
  const full = median(parseAndValidate);
  const overhead = (full - base) / base;
  console.log(
    `${name.padEnd(28)} JSON.parse ${base.toFixed(0).padStart(6)} ns | parse+validate ${full.toFixed(0).padStart(6)} ns | ` +
      `validation = ${overhead.toFixed(2)}× a JSON.parse` + (isGoal ? ` (goal < 1.00) ${overhead < 1 ? 'OK' : 'MISSED'}` : ' (reference: zod alone)'),
  );
}

console.log(`@webmon/protocol validation benchmark (${rounds} interleaved rounds, medians; ${pollText.length} B poll)`);
compare('poll, 40 seen tiles', pollText, parsePoll);
compare('poll via PollSchema.parse', pollText, (value) => PollSchema.parse(value), false);
compare('frame_time message', frameTimeText, parseNapariMessage);
compare('frame_time via zod', frameTimeText, (value) => FrameTimeSchema.parse((value as { frame_time: unknown }).frame_time), false);
