/**
 * A slice of the mutation fuzzer (scripts/fuzz-pickle.ts, which runs 1 000 000 inputs standalone):
 * mutated WIRE vectors must decode or throw PickleError, never crash, never surface an internal
 * error, and never take long. Size: PICKLE_FUZZ_INPUTS (default 30 000), seed PICKLE_FUZZ_SEED.
 */
import { describe, expect, it } from 'vitest';
import { loadCorpus, runFuzz } from '../scripts/fuzz-pickle.js';

const INPUTS = Number(process.env['PICKLE_FUZZ_INPUTS'] ?? 30_000);
const SEED = Number(process.env['PICKLE_FUZZ_SEED'] ?? 7);

describe('fuzz slice', () => {
  it(`${INPUTS} mutated vectors: only PickleError, nothing slow`, () => {
    const corpus = loadCorpus();
    expect(corpus.length).toBe(55);
    // 1 s per input is far above the ~10 µs typical; a slow input is re-timed before it counts.
    const stats = runFuzz({ iterations: INPUTS, seed: SEED, maxMsPerInput: 1000, corpus });
    console.log(
      `pickle fuzz: ${stats.inputs} inputs, ${stats.decoded} decoded, ${JSON.stringify(stats.errorsByCode)}, slowest ${stats.slowestMs.toFixed(1)} ms`,
    );
    expect(stats.violations).toEqual([]);
    expect(stats.inputs).toBe(INPUTS);
    // the mutations must reach every outcome, or the fuzzer is not exercising much
    expect(stats.decoded).toBeGreaterThan(0);
    expect(stats.errorsByCode['SHM_READER_PICKLE_MALFORMED']).toBeGreaterThan(0);
    expect(stats.errorsByCode['SHM_READER_PICKLE_UNSUPPORTED']).toBeGreaterThan(0);
  }, 600_000);
});
