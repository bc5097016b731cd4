import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ShmReaderError, decodePickle } from '../src/index.js';
import { toJsonData } from '../src/json/to-json.js';

describe('toJsonData bounds what a decoded value may expand to', () => {
  it('refuses a "billion laughs" value (shared references) with PICKLE_LIMIT instead of expanding it', () => {
    // 30 levels of a list holding the same list 10 times: a few hundred bytes of pickle, 10^30 leaves as a tree.
    const bytes = execFileSync('python3', ['-c', 'import pickle,sys\na=[1]*10\nfor _ in range(30): a=[a]*10\nsys.stdout.buffer.write(pickle.dumps({"poll": a}, 4))']);
    expect(bytes.length).toBeLessThan(2_000);
    const value = decodePickle(bytes);
    const started = Date.now();
    let error: unknown;
    try {
      toJsonData(value);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ShmReaderError);
    expect((error as ShmReaderError).code).toBe('SHM_READER_PICKLE_LIMIT');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('converts values within the limits, and honours a lower limit', () => {
    const bytes = execFileSync('python3', ['-c', 'import pickle,sys\nsys.stdout.buffer.write(pickle.dumps({1: [1, 2.5, "x", None], 2**70: (True,)}, 4))']);
    expect(toJsonData(decodePickle(bytes))).toEqual({ '1': [1, 2.5, 'x', null], '1180591620717411303424': [true] });
    expect(() => toJsonData(decodePickle(bytes), { maxNodes: 3 })).toThrow(/more than 3 values/);
  });
});
