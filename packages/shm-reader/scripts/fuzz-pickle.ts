/**
 * Mutation fuzzer for decodePickle. Takes the real WIRE vectors (test/fixtures/pickles/*.bin),
 * mutates them (bit flips, truncations, splices, random length fields, repeats, inserts, deletes),
 * and checks the contract: decodePickle returns a value or throws PickleError, never anything else,
 * never an internal error wrapped as PickleError, and every input finishes quickly.
 *
 *   tsx scripts/fuzz-pickle.ts [--iterations 1000000] [--seed 1] [--max-ms 250]
 *
 * Exits 1 on any violation and prints the offending inputs as hex. test/pickle-fuzz.test.ts runs a
 * slice of the same stream.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { decodePickle } from '../src/pickle/decoder.js';
import { PickleError } from '../src/pickle/errors.js';

export interface FuzzOptions {
  iterations: number;
  seed: number;
  /** An input slower than this counts as a violation (a hang or super-linear path). */
  maxMsPerInput: number;
  corpus?: Uint8Array[];
  /** Called every 100 000 inputs. */
  onProgress?: (done: number, stats: FuzzStats) => void;
}

export interface FuzzStats {
  inputs: number;
  decoded: number;
  errorsByCode: Record<string, number>;
  slowestMs: number;
  totalMs: number;
  violations: { input: string; problem: string }[];
}

export const FUZZ_CORPUS_DIR = fileURLToPath(new URL('../test/fixtures/pickles/', import.meta.url));

/** The WIRE vectors listed in the fixtures' index.json. */
export function loadCorpus(dir = FUZZ_CORPUS_DIR): Uint8Array[] {
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { vectors?: { file?: unknown }[] };
  const files = (index.vectors ?? []).map((v) => v.file).filter((f): f is string => typeof f === 'string');
  return files.map((f) => new Uint8Array(readFileSync(join(dir, f))));
}

/** Seeded PRNG (mulberry32), so a failing run can be replayed with the same seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Bytes a mutation likes to plant: opcodes, signs, boundaries. */
const INTERESTING_BYTES = [
  0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x7f, 0x80, 0xfe, 0xff, 0x28, 0x2e, 0x30, 0x31, 0x32, 0x4e, 0x52, 0x5d, 0x61, 0x62, 0x65, 0x68, 0x6a,
  0x71, 0x72, 0x73, 0x74, 0x75, 0x7d, 0x81, 0x85, 0x86, 0x87, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96,
  0x97, 0x98, 0x0a,
];
/** Length-field values: zero, small, sign boundaries, all-ones. */
const INTERESTING_LENGTHS = [0, 1, 2, 7, 8, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff];

export function mutate(corpus: readonly Uint8Array[], rand: () => number): Uint8Array {
  const int = (n: number): number => Math.floor(rand() * n);
  let data = Uint8Array.from(corpus[int(corpus.length)] as Uint8Array);
  const rounds = 1 + int(4);
  for (let r = 0; r < rounds; r++) {
    const at = int(data.length + 1);
    switch (int(9)) {
      case 0: // bit flips
        for (let i = 1 + int(8); i > 0 && data.length > 0; i--) {
          const p = int(data.length);
          data[p] = (data[p] as number) ^ (1 << int(8));
        }
        break;
      case 1: // plant an interesting byte
        if (data.length > 0) data[int(data.length)] = INTERESTING_BYTES[int(INTERESTING_BYTES.length)] as number;
        break;
      case 2: // truncate
        data = data.slice(0, at);
        break;
      case 3: {
        // splice: a prefix of this one + a suffix of another vector
        const other = corpus[int(corpus.length)] as Uint8Array;
        const from = int(other.length + 1);
        const joined = new Uint8Array(at + other.length - from);
        joined.set(data.subarray(0, at));
        joined.set(other.subarray(from), at);
        data = joined;
        break;
      }
      case 4: {
        // overwrite a little-endian 1/2/4/8-byte field with an interesting length
        const width = [1, 2, 4, 8][int(4)] as number;
        if (data.length < width) break;
        const p = int(data.length - width + 1);
        let value = INTERESTING_LENGTHS[int(INTERESTING_LENGTHS.length)] as number;
        if (rand() < 0.3) value = int(2 ** 32);
        for (let i = 0; i < width; i++) {
          data[p + i] = i < 4 ? (value >>> (8 * i)) & 0xff : rand() < 0.8 ? 0 : 0xff;
        }
        break;
      }
      case 5: {
        // repeat a chunk (stresses stack, memo and container growth)
        if (data.length === 0) break;
        const start = int(data.length);
        const chunk = data.subarray(start, Math.min(data.length, start + 1 + int(16)));
        const times = 1 + int(rand() < 0.1 ? 2000 : 20);
        const grown = new Uint8Array(data.length + chunk.length * times);
        grown.set(data.subarray(0, start));
        for (let i = 0; i < times; i++) grown.set(chunk, start + i * chunk.length);
        grown.set(data.subarray(start), start + chunk.length * times);
        data = grown;
        break;
      }
      case 6: {
        // insert random bytes
        const n = 1 + int(8);
        const grown = new Uint8Array(data.length + n);
        grown.set(data.subarray(0, at));
        for (let i = 0; i < n; i++) grown[at + i] = rand() < 0.5 ? (INTERESTING_BYTES[int(INTERESTING_BYTES.length)] as number) : int(256);
        grown.set(data.subarray(at), at + n);
        data = grown;
        break;
      }
      case 7: {
        // delete a range
        const end = Math.min(data.length, at + 1 + int(16));
        const shrunk = new Uint8Array(data.length - (end - at));
        shrunk.set(data.subarray(0, at));
        shrunk.set(data.subarray(end), at);
        data = shrunk;
        break;
      }
      default: // random byte
        if (data.length > 0) data[int(data.length)] = int(256);
        break;
    }
  }
  return data;
}

const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

function timeOnce(input: Uint8Array): number {
  const t0 = performance.now();
  try {
    decodePickle(input);
  } catch {
    // only the time matters here
  }
  return performance.now() - t0;
}

export function runFuzz(options: FuzzOptions): FuzzStats {
  const corpus = options.corpus ?? loadCorpus();
  if (corpus.length === 0) throw new Error('fuzz corpus is empty');
  const rand = prng(options.seed);
  const stats: FuzzStats = { inputs: 0, decoded: 0, errorsByCode: {}, slowestMs: 0, totalMs: 0, violations: [] };
  const started = performance.now();
  for (let i = 0; i < options.iterations; i++) {
    const input = mutate(corpus, rand);
    const t0 = performance.now();
    try {
      decodePickle(input);
      stats.decoded++;
    } catch (error) {
      if (!(error instanceof PickleError)) {
        stats.violations.push({ input: toHex(input), problem: `threw ${String(error)}` });
      } else {
        stats.errorsByCode[error.code] = (stats.errorsByCode[error.code] ?? 0) + 1;
        // The decoder wraps unexpected engine errors (TypeError, RangeError...) as PickleError with the
        // original as `cause`: for the fuzzer those are bugs, not clean rejections.
        if (error.cause !== undefined && !(error.cause instanceof PickleError)) {
          stats.violations.push({ input: toHex(input), problem: `internal error: ${String(error.cause)}` });
        }
      }
    }
    let ms = performance.now() - t0;
    if (ms > options.maxMsPerInput) {
      // On a shared, loaded machine a single slow run is usually the scheduler or GC: only an input
      // that is slow every time is a real super-linear path.
      ms = Math.min(ms, timeOnce(input), timeOnce(input), timeOnce(input));
      if (ms > options.maxMsPerInput) stats.violations.push({ input: toHex(input).slice(0, 4000), problem: `took ${ms.toFixed(1)} ms` });
    }
    if (ms > stats.slowestMs) stats.slowestMs = ms;
    stats.inputs++;
    if (options.onProgress && stats.inputs % 100_000 === 0) options.onProgress(stats.inputs, stats);
    if (stats.violations.length >= 20) break;
  }
  stats.totalMs = performance.now() - started;
  return stats;
}

function argument(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const raw = i >= 0 ? process.argv[i + 1] : undefined;
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(value)) throw new Error(`--${name} needs a number`);
  return value;
}

function main(): void {
  const iterations = argument('iterations', 1_000_000);
  const seed = argument('seed', 1);
  const maxMsPerInput = argument('max-ms', 250);
  const corpus = loadCorpus();
  console.log(`fuzz-pickle: ${iterations} inputs from ${corpus.length} vectors, seed ${seed}, max ${maxMsPerInput} ms per input`);
  const stats = runFuzz({
    iterations,
    seed,
    maxMsPerInput,
    corpus,
    onProgress: (done, s) => console.log(`  ${done} inputs, ${s.decoded} decoded, ${s.violations.length} violations, slowest ${s.slowestMs.toFixed(2)} ms`),
  });
  console.log(
    `done: ${stats.inputs} inputs in ${(stats.totalMs / 1000).toFixed(1)} s (${((stats.totalMs * 1000) / stats.inputs).toFixed(1)} µs each); ` +
      `${stats.decoded} decoded, errors ${JSON.stringify(stats.errorsByCode)}, slowest ${stats.slowestMs.toFixed(2)} ms`,
  );
  if (stats.violations.length > 0) {
    console.log(`VIOLATIONS (${stats.violations.length}):`);
    for (const v of stats.violations) console.log(`  ${v.problem}\n    ${v.input.slice(0, 400)}`);
    process.exitCode = 1;
  } else {
    console.log('no violations: only PickleError was thrown, every input finished in time');
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
