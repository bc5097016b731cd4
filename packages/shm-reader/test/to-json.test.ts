import { execFileSync, spawnSync } from 'node:child_process';
import { findInterpreters } from '@webmon/test-python';
import { describe, expect, it } from 'vitest';
import { ShmReaderError, decodePickle } from '../src/index.js';
import { createJsonBudget, toJsonData } from '../src/json/to-json.js';

const interpreters = findInterpreters();
if (interpreters.length === 0) throw new Error('no CPython 3.8+ found in ~/.pyenv/versions: the tests need real interpreters');
const python = (interpreters.find((i) => spawnSync(i.path, ['-c', 'import numpy'], { timeout: 60_000 }).status === 0) ?? interpreters.at(-1)!).path;

/** What CPython's `pickle.dumps` makes of the value the script leaves in `v` (numpy needs the interpreter that has it). */
function pickled(script: string): Buffer {
  if (script.includes('import numpy') && spawnSync(python, ['-c', 'import numpy']).status !== 0) {
    throw new Error('no CPython with numpy found: the numpy cases need one');
  }
  return execFileSync(python, ['-c', `import pickle, sys\n${script}\nsys.stdout.buffer.write(pickle.dumps(v, 4))`], {
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** The error `run` throws, its duration and how much the heap grew meanwhile. */
function attempt(run: () => unknown): { error: unknown; ms: number; heapMiB: number } {
  const heap = process.memoryUsage().heapUsed;
  const started = performance.now();
  let error: unknown;
  try {
    run();
  } catch (caught) {
    error = caught;
  }
  const ms = performance.now() - started;
  return { error, ms, heapMiB: (process.memoryUsage().heapUsed - heap) / 2 ** 20 };
}

describe('toJsonData bounds what a decoded value may expand to', () => {
  it('refuses a "billion laughs" value (shared references) with PICKLE_LIMIT instead of expanding it', () => {
    // 30 levels of a list holding the same list 10 times: a few hundred bytes of pickle, 10^30 leaves as a tree.
    const bytes = pickled('v=[1]*10\nfor _ in range(30): v=[v]*10\nv={"poll": v}');
    expect(bytes.length).toBeLessThan(2_000);
    const { error, ms } = attempt(() => toJsonData(decodePickle(bytes)));
    expect(error).toBeInstanceOf(ShmReaderError);
    expect((error as ShmReaderError).code).toBe('SHM_READER_PICKLE_LIMIT');
    expect(ms).toBeLessThan(50);
  });

  it('bounds the expansion by the size of the pickle: ~1 KB expanding to 10^8 values is refused fast and small', () => {
    // Under the absolute ceiling's radar until 4 000 000 values have been built: the input size is what gives it away.
    const bytes = pickled('v=0\nfor _ in range(4): v=[v]*100\nv={"laughs": v, "seq": 1}');
    expect(bytes.length).toBeLessThan(1_024);
    const value = decodePickle(bytes);
    const { error, ms, heapMiB } = attempt(() => toJsonData(value, { inputBytes: bytes.length }));
    console.log(`billion laughs, ${bytes.length}-byte pickle: refused in ${ms.toFixed(1)} ms, heap +${heapMiB.toFixed(1)} MiB`);
    expect(error).toBeInstanceOf(ShmReaderError);
    expect((error as ShmReaderError).code).toBe('SHM_READER_PICKLE_LIMIT');
    expect((error as Error).message).toMatch(/per byte of its pickle/);
    expect(ms).toBeLessThan(50);
    expect(heapMiB).toBeLessThan(50);
  });

  it('bounds the characters too: one long str referenced many times is refused before anything stringifies it', () => {
    const bytes = pickled('s="x"*100000\nv=[s]*100');
    expect(bytes.length).toBeLessThan(101_000);
    // 100 values are few; 10^7 characters from a 100 KB pickle are not.
    const { error, ms } = attempt(() => toJsonData(decodePickle(bytes), { inputBytes: bytes.length }));
    expect((error as ShmReaderError).code).toBe('SHM_READER_PICKLE_LIMIT');
    expect((error as Error).message).toMatch(/10000000 characters/);
    expect(ms).toBeLessThan(50);
    // Without the input size only the absolute ceilings apply, and it converts.
    expect(toJsonData(decodePickle(bytes))).toHaveLength(100);
  });

  it('still converts legitimately large values, whose expansion is proportional to their bytes', () => {
    // 2 000 000 values (half the ceiling, like the laughs above but every one of them written out).
    const list = pickled('v=[i % 256 for i in range(2_000_000)]');
    const converted = toJsonData(decodePickle(list), { inputBytes: list.length }) as number[];
    expect(converted).toHaveLength(2_000_000);
    expect(converted[257]).toBe(1);
    // A 4 MiB numpy array as nested lists, and a 1 MiB bytes value (base64, 4/3 characters per byte).
    const numpy = pickled('import numpy\nv={"image": numpy.arange(512 * 1024, dtype="<f8").reshape(512, 1024), "blob": bytes(2**20)}');
    const json = toJsonData(decodePickle(numpy), { inputBytes: numpy.length }) as { image: number[][]; blob: string };
    expect(json.image).toHaveLength(512);
    expect(json.image[511]![1023]).toBe(512 * 1024 - 1);
    expect(json.blob).toHaveLength(4 * Math.ceil(2 ** 20 / 3));
  });

  it('counts the nested lists of a numpy array, so an empty array of 10^7 rows is not free', () => {
    const bytes = pickled('import numpy\nv=numpy.zeros((10_000_000, 0))');
    expect(bytes.length).toBeLessThan(1_000);
    const { error, ms } = attempt(() => toJsonData(decodePickle(bytes), { inputBytes: bytes.length }));
    expect((error as ShmReaderError).code).toBe('SHM_READER_PICKLE_LIMIT');
    expect(ms).toBeLessThan(50);
  });

  it('one budget for several values of one pickle: many keys sharing one subtree cannot multiply it', () => {
    // 2 000 keys, each referencing the same 1 000-value list: each key alone fits a 6 KB pickle's budget, all of them do not.
    const bytes = pickled('s=list(range(1000))\nv={i: s for i in range(2000)}');
    const entries = [...(decodePickle(bytes) as Map<unknown, unknown>).values()];
    const budget = createJsonBudget({ inputBytes: bytes.length });
    let converted = 0;
    let refused = 0;
    for (const value of entries) {
      try {
        toJsonData(value as never, budget);
        converted++;
      } catch (error) {
        expect((error as ShmReaderError).code).toBe('SHM_READER_PICKLE_LIMIT');
        refused++;
      }
    }
    expect(converted * 1001).toBeLessThanOrEqual(2 * bytes.length + 1001);
    expect(refused).toBeGreaterThan(1_900);
    // The same value converts on its own, with a budget of its own.
    expect(toJsonData(entries[0] as never, { inputBytes: bytes.length })).toHaveLength(1000);
  });

  it('converts values within the limits, and honours a lower limit', () => {
    const bytes = pickled('v={1: [1, 2.5, "x", None], 2**70: (True,)}');
    expect(toJsonData(decodePickle(bytes))).toEqual({ '1': [1, 2.5, 'x', null], '1180591620717411303424': [true] });
    expect(() => toJsonData(decodePickle(bytes), { maxNodes: 3 })).toThrow(/more than 3 values/);
  });

  it('refuses a value that contains itself as too deep, without recursing forever', () => {
    // decodePickle refuses such values; one built by hand must not hang the converter either.
    const value: unknown[] = [1];
    value.push(value);
    expect(() => toJsonData(value as never)).toThrow(/nesting deeper than 512/);
  });
});
