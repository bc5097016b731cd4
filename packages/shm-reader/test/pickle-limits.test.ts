/**
 * Hostile and broken input: every bound gives PICKLE_LIMIT, bad bytes give PICKLE_MALFORMED,
 * valid-but-Python-only features give PICKLE_UNSUPPORTED; nothing else is ever thrown, nothing
 * hangs, and nothing named in a pickle is ever run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ShmReaderErrorCode } from '../src/errors.js';
import { decodePickle, PICKLE_DECODE_DEFAULTS, PickleError, PyObject, type PickleDecodeOptions, type PyValue } from '../src/pickle/index.js';
import { FIXTURES, findPythons, hexToBytes } from './pickle-helpers.js';

const { PICKLE_LIMIT, PICKLE_MALFORMED, PICKLE_UNSUPPORTED } = ShmReaderErrorCode;

/** Assembles a pickle from opcode bytes, numbers (one byte each) and strings (latin-1). */
function bytes(...parts: (number | string | Uint8Array | number[])[]): Uint8Array {
  const out: number[] = [];
  for (const part of parts) {
    if (typeof part === 'number') out.push(part);
    else if (typeof part === 'string') for (const c of part) out.push(c.charCodeAt(0));
    else out.push(...part);
  }
  return new Uint8Array(out);
}

const u32 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
const u64 = (lo: number, hi: number): number[] => [...u32(lo), ...u32(hi)];

function errorOf(data: Uint8Array, options?: PickleDecodeOptions): PickleError {
  try {
    decodePickle(data, options);
  } catch (error) {
    if (error instanceof PickleError) return error;
    throw new Error(`expected a PickleError, got ${String(error)}`);
  }
  throw new Error('expected decodePickle to throw');
}

/** A large pickle built from a repeated chunk (fast, no per-byte JS arrays). */
function repeated(head: number[], chunk: number[], times: number, tail: number[]): Uint8Array {
  const out = new Uint8Array(head.length + chunk.length * times + tail.length);
  out.set(head, 0);
  for (let i = 0; i < times; i++) out.set(chunk, head.length + i * chunk.length);
  out.set(tail, head.length + chunk.length * times);
  return out;
}

describe('limits', () => {
  it('documents its defaults', () => {
    expect(PICKLE_DECODE_DEFAULTS).toEqual({
      maxBytes: 268_435_456,
      maxDepth: 1000,
      maxMemo: 4_194_304,
      maxContainerLength: 16_777_216,
      maxStringBytes: 134_217_728,
    });
  });

  it('maxBytes bounds the input', () => {
    const e = errorOf(bytes(0x80, 4, 'N.'), { maxBytes: 3 });
    expect(e.code).toBe(PICKLE_LIMIT);
    expect(decodePickle(bytes(0x80, 4, 'N.'), { maxBytes: 4 })).toBeNull();
  });

  it('deep nesting (100 000 nested lists) stops at maxDepth, without recursion', () => {
    const n = 100_000;
    const data = repeated([0x80, 4], [0x5d], n, [...new Array<number>(n - 1).fill(0x61), 0x2e]);
    expect(errorOf(data).code).toBe(PICKLE_LIMIT);
    // MARK ... LIST nesting, and tuples
    expect(errorOf(repeated([0x80, 2], [0x28], n, [...new Array<number>(n).fill(0x6c), 0x2e])).code).toBe(PICKLE_LIMIT);
    expect(errorOf(repeated([0x80, 2, 0x29], [0x85], n, [0x2e])).code).toBe(PICKLE_LIMIT);
    // just under the limit decodes
    const ok = repeated([0x80, 4], [0x5d], 999, [...new Array<number>(998).fill(0x61), 0x2e]);
    let depth = 0;
    for (let v = decodePickle(ok) as PyValue[] | undefined; v; v = v[0] as PyValue[] | undefined) depth++;
    expect(depth).toBe(999);
    expect(errorOf(ok, { maxDepth: 998 }).code).toBe(PICKLE_LIMIT);
  });

  it('deep nesting built through the memo (mutating already-nested lists) is caught too', () => {
    // L0 = []; then repeatedly: get L(i-1), new list Li, memoize, append Li to L(i-1), pop. Root: L0.
    const n = 5000;
    const parts: number[] = [0x80, 4, 0x5d, 0x94, 0x30];
    for (let i = 1; i <= n; i++) parts.push(0x6a, ...u32(i - 1), 0x5d, 0x94, 0x61, 0x30);
    parts.push(0x6a, ...u32(0), 0x2e);
    const data = new Uint8Array(parts);
    expect(errorOf(data).code).toBe(PICKLE_LIMIT);
    expect(errorOf(data).message).toContain('maxDepth');
    // the same shape, shallow enough, decodes (and is exactly as deep as built)
    const shallow: number[] = [0x80, 4, 0x5d, 0x94, 0x30];
    for (let i = 1; i <= 50; i++) shallow.push(0x6a, ...u32(i - 1), 0x5d, 0x94, 0x61, 0x30);
    shallow.push(0x6a, ...u32(0), 0x2e);
    let depth = 0;
    for (let v = decodePickle(new Uint8Array(shallow)) as PyValue[] | undefined; v; v = v[0] as PyValue[] | undefined) depth++;
    expect(depth).toBe(51);
  });

  it('self-referencing values are refused (CPython-made and hand-made)', () => {
    expect(errorOf(bytes(0x80, 4, 0x5d, 0x94, 0x68, 0, 0x61, 0x2e)).code).toBe(PICKLE_LIMIT);
    const python = findPythons().at(-1);
    if (!python) throw new Error('no CPython found');
    const hex = execFileSync(python.path, ['-c', 'import pickle; a = []; b = {"a": a}; a.append(b); print(pickle.dumps(a, 4).hex())'], {
      encoding: 'utf8',
    }).trim();
    const e = errorOf(hexToBytes(hex));
    expect(e.code).toBe(PICKLE_LIMIT);
    expect(e.message).toContain('self-referencing');
  });

  it('shared numpy dtypes (memo GET) are measured directly; a self-containing dtype is refused', () => {
    const python = findPythons().find((p) => p.minor === 11);
    if (!python) throw new Error('CPython 3.11 (with numpy) not found');
    const hex = execFileSync(python.path, ['-c', 'import numpy as np, pickle; d = np.dtype("<f4"); print(pickle.dumps([np.zeros(2, d), np.ones(3, d), d], 4).hex())'], {
      encoding: 'utf8',
    }).trim();
    const [a, b, dtype] = decodePickle(hexToBytes(hex)) as PyValue[];
    expect((a as { dtype: unknown }).dtype).toBe(dtype); // one shared NumpyDType, as in CPython
    expect((b as { data: unknown }).data).toEqual(new Float32Array([1, 1, 1]));
    // numpy.dtype('V8') whose only field is the dtype itself, through the memo
    const selfish = bytes(
      0x80, 4,
      0x8c, 5, 'numpy', 0x8c, 5, 'dtype', 0x93, 0x8c, 2, 'V8', 0x89, 0x88, 0x87, 0x52, 0x94, // dtype('V8') -> memo 0
      0x28, 0x4b, 3, 0x8c, 1, '|', 0x4e, // (3, '|', None,
      0x8c, 1, 'x', 0x85, // ('x',),
      0x7d, 0x8c, 1, 'x', 0x68, 0, 0x4b, 0, 0x86, 0x73, // {'x': (<itself>, 0)},
      0x4b, 8, 0x4b, 1, 0x4b, 0, 0x74, 0x62, // 8, 1, 0) BUILD
      0x68, 0, 0x2e, // and fetch it again
    );
    expect(errorOf(selfish).code).toBe(PICKLE_LIMIT);
    expect(errorOf(selfish).message).toContain('self-referencing');
  });

  it('billion laughs via memo GET shares references: linear time, tiny memory', () => {
    // level 0: a list of 1000 ints; level k: a list of 1000 GETs of level k-1; 12 levels = 10^36 leaves.
    const parts: number[] = [0x80, 4, 0x5d, 0x94, 0x28, ...new Array<number>(1000).fill(0x4e), 0x65];
    for (let level = 1; level <= 12; level++) {
      parts.push(0x5d, 0x94, 0x28);
      for (let i = 0; i < 1000; i++) parts.push(0x6a, ...u32(level - 1));
      parts.push(0x65);
    }
    parts.push(0x2e);
    const started = performance.now();
    const top = decodePickle(new Uint8Array(parts)) as PyValue[];
    expect(performance.now() - started).toBeLessThan(5000); // generous: it takes about a millisecond
    expect(top).toHaveLength(1000);
    expect(top[0]).toBe(top[999]); // one shared object, as in CPython
  });

  it('maxMemo bounds memo entries (dense and sparse indices)', () => {
    const dense = repeated([0x80, 4], [0x4e, 0x94, 0x30], 2000, [0x4e, 0x2e]);
    expect(errorOf(dense, { maxMemo: 1000 }).code).toBe(PICKLE_LIMIT);
    expect(decodePickle(dense, { maxMemo: 2000 })).toBeNull();
    const sparse: number[] = [0x80, 2];
    for (let i = 0; i < 50; i++) sparse.push(0x4e, 0x72, ...u32(0xffff_ff00 + i), 0x30);
    sparse.push(0x6a, ...u32(0xffff_ff07), 0x2e);
    expect(decodePickle(new Uint8Array(sparse))).toBeNull();
    expect(errorOf(new Uint8Array(sparse), { maxMemo: 10 }).code).toBe(PICKLE_LIMIT);
    // a GET of a slot never PUT
    expect(errorOf(bytes(0x80, 4, 0x68, 5, 0x2e)).code).toBe(PICKLE_MALFORMED);
  });

  it('maxContainerLength bounds lists, tuples, dicts, sets and the stack', () => {
    const opts = { maxContainerLength: 10 };
    const nones = (n: number): number[] => new Array<number>(n).fill(0x4e);
    expect(errorOf(bytes(0x80, 4, 0x5d, 0x28, nones(11), 0x65, 0x2e), opts).code).toBe(PICKLE_LIMIT);
    expect(errorOf(bytes(0x80, 4, 0x28, nones(11), 0x74, 0x2e), opts).code).toBe(PICKLE_LIMIT);
    expect(errorOf(bytes(0x80, 4, 0x8f, 0x28, [...Array(11).keys()].flatMap((i) => [0x4b, i]), 0x90, 0x2e), opts).code).toBe(PICKLE_LIMIT);
    expect(errorOf(bytes(0x80, 4, 0x7d, 0x28, [...Array(11).keys()].flatMap((i) => [0x4b, i, 0x4e]), 0x75, 0x2e), opts).code).toBe(PICKLE_LIMIT);
    expect(errorOf(repeated([0x80, 4], [0x4e], 100, [0x2e]), opts).code).toBe(PICKLE_LIMIT); // 100 > 2 * 10 + 64 stack slots
    expect(decodePickle(bytes(0x80, 4, 0x5d, 0x28, nones(10), 0x65, 0x2e), opts)).toHaveLength(10);
  });

  it('maxStringBytes bounds str, bytes and ints; huge declared lengths fail without allocating', () => {
    const opts = { maxStringBytes: 10 };
    expect(errorOf(bytes(0x80, 4, 0x8c, 11, 'x'.repeat(11), 0x2e), opts).code).toBe(PICKLE_LIMIT);
    expect(errorOf(bytes(0x80, 4, 0x43, 11, 'x'.repeat(11), 0x2e), opts).code).toBe(PICKLE_LIMIT);
    expect(errorOf(bytes(0x80, 4, 0x8a, 11, 'x'.repeat(11), 0x2e), opts).code).toBe(PICKLE_LIMIT);
    expect(decodePickle(bytes(0x80, 4, 0x8c, 10, 'x'.repeat(10), 0x2e), opts)).toBe('x'.repeat(10));
    for (const op of [0x8d, 0x8e, 0x96]) {
      // 2^60-byte str / bytes / bytearray announced, 3 bytes present
      const e = errorOf(bytes(0x80, 5, op, u64(0, 0x1000_0000), 'abc', 0x2e));
      expect([PICKLE_MALFORMED, PICKLE_LIMIT]).toContain(e.code);
    }
    expect(errorOf(bytes(0x80, 4, 0x58, u32(0xffff_fff0), 'abc')).code).toBe(PICKLE_MALFORMED);
    expect(errorOf(bytes(0x80, 4, 0x95, u64(0xffff_ffff, 0xffff_ffff), 'N.')).code).toBe(PICKLE_MALFORMED);
  });

  it('decimal ints longer than CPython accepts (4300 digits) are refused', () => {
    expect(errorOf(bytes('L', '9'.repeat(5000), 'L\n.')).code).toBe(PICKLE_LIMIT);
    expect(decodePickle(bytes('L', '9'.repeat(4000), 'L\n.'))).toBe(10n ** 4000n - 1n);
  });

  it('rejects bad option values', () => {
    expect(errorOf(bytes('N.'), { maxDepth: -1 }).code).toBe('SHM_READER_INVALID_OPTIONS');
    expect(errorOf(bytes('N.'), { maxMemo: Number.NaN }).code).toBe('SHM_READER_INVALID_OPTIONS');
  });
});

describe('malformed and unsupported input', () => {
  const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.bin'));

  it('every truncation of every vector is PICKLE_MALFORMED', () => {
    let checked = 0;
    for (const file of fixtures) {
      const data = new Uint8Array(readFileSync(join(FIXTURES, file)));
      for (let end = 0; end < data.length; end += data.length > 5000 ? 997 : 1) {
        expect(errorOf(data.subarray(0, end)).code, `${file}[:${end}]`).toBe(PICKLE_MALFORMED);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(5000);
  });

  it('unknown opcodes, stack misuse, trailing bytes and wrong input types are PICKLE_MALFORMED', () => {
    expect(errorOf(bytes(0x80, 4, 0xff, 0x2e)).code).toBe(PICKLE_MALFORMED);
    expect(errorOf(bytes(0x80, 4, 0x2e)).code).toBe(PICKLE_MALFORMED); // STOP on an empty stack
    expect(errorOf(bytes(0x80, 4, 0x61, 0x2e)).code).toBe(PICKLE_MALFORMED); // APPEND with nothing
    expect(errorOf(bytes(0x80, 4, 0x4e, 0x74, 0x2e)).code).toBe(PICKLE_MALFORMED); // TUPLE without MARK
    expect(errorOf(bytes(0x80, 4, 0x4e, 0x28, 0x86, 0x2e)).code).toBe(PICKLE_MALFORMED); // TUPLE2 across a MARK
    expect(errorOf(bytes(0x80, 4, 0x4b, 1, 0x4e, 0x61, 0x2e)).code).toBe(PICKLE_MALFORMED); // APPEND to an int
    expect(errorOf(bytes(0x80, 4, 0x4e, 0x2e, 0x4e)).code).toBe(PICKLE_MALFORMED); // trailing byte
    expect(errorOf(bytes(0x80, 4, 0x8c, 2, 0xc3, 0x28, 0x2e)).code).toBe(PICKLE_MALFORMED); // bad UTF-8
    expect(errorOf(bytes('I12x\n.')).code).toBe(PICKLE_MALFORMED);
    expect(errorOf(bytes('Fnope\n.')).code).toBe(PICKLE_MALFORMED);
    expect(errorOf(bytes("S'unterminated\n.")).code).toBe(PICKLE_MALFORMED);
    expect(errorOf('not bytes' as unknown as Uint8Array).code).toBe(PICKLE_MALFORMED);
    const e = errorOf(bytes(0x80, 4, 0x4e, 0xff));
    expect(e.offset).toBe(3);
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('PickleError');
  });

  it('Python-only features are PICKLE_UNSUPPORTED', () => {
    expect(errorOf(bytes(0x80, 6, 0x4e, 0x2e)).code).toBe(PICKLE_UNSUPPORTED); // protocol 6
    expect(errorOf(bytes(0x80, 5, 0x97, 0x2e)).code).toBe(PICKLE_UNSUPPORTED); // NEXT_BUFFER
    expect(errorOf(bytes('Pid\n.')).code).toBe(PICKLE_UNSUPPORTED); // PERSID
    expect(errorOf(bytes(0x80, 2, 0x82, 1, 0x2e)).code).toBe(PICKLE_UNSUPPORTED); // EXT1
    expect(decodePickle(bytes(0x80, 5, 0x43, 1, 'x', 0x98, 0x2e))).toEqual(new Uint8Array([0x78])); // READONLY_BUFFER in-band
  });
});

describe('safety: globals are data, never code', () => {
  it('a pickle that would run os.system in CPython decodes to an inert PyObject', () => {
    const python = findPythons().at(-1);
    if (!python) throw new Error('no CPython found');
    const marker = join(FIXTURES, 'must-not-exist');
    const script = [
      'import os, pickle, subprocess',
      'class Boom:',
      `    def __reduce__(self): return (os.system, (${JSON.stringify(`touch ${marker}`)},))`,
      'class Boom2:',
      `    def __reduce__(self): return (subprocess.Popen, ([${JSON.stringify('touch')}, ${JSON.stringify(marker)}],))`,
      'for p in range(6): print(pickle.dumps([Boom(), Boom2(), eval], protocol=p).hex())',
    ].join('\n');
    const lines = execFileSync(python.path, ['-c', script], { encoding: 'utf8' }).trim().split('\n');
    expect(lines).toHaveLength(6);
    for (const hex of lines) {
      const [system, popen, evalFn] = decodePickle(hexToBytes(hex)) as PyValue[];
      expect(system).toBeInstanceOf(PyObject);
      expect((system as PyObject).qualifiedName).toBe('posix.system');
      expect([...(system as PyObject).args]).toEqual([`touch ${marker}`]);
      expect((popen as PyObject).qualifiedName).toBe('subprocess.Popen');
      expect(evalFn).toMatchObject({ module: 'builtins', name: 'eval' });
    }
    expect(existsSync(marker)).toBe(false);
  });
});

describe('Python 2 pickles (protocols 0–2: STRING, BINSTRING, INT, LONG, FLOAT text, PUT/GET)', () => {
  const python2 = join(process.env['HOME'] ?? '/root', '.pyenv/versions/2.7.18/bin/python');

  it('decodes what CPython 2.7 writes', () => {
    expect(existsSync(python2), 'CPython 2.7 is installed here; it is the only writer of these opcodes').toBe(true);
    const script = [
      'import pickle',
      "v = {'s': 'byte str\\n\\x01\\xff\\'\"', u'u': u'h\\xe9 \\u2603 \\\\', 'i': 1, 'neg': -5, 'l': 2**70, 'nl': -2**70,",
      "     'f': 1.5, 'fn': -0.25, 't': (1, 2), 'n': None, 'b': True, 'c': False, 'lst': [1, 'x'], 'big': 'y' * 300}",
      'for p in (0, 1, 2): print(pickle.dumps(v, p).encode("hex"))',
    ].join('\n');
    const lines = execFileSync(python2, ['-c', script], { encoding: 'utf8' }).trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const hex of lines) {
      const value = decodePickle(hexToBytes(hex)) as Map<PyValue, PyValue>;
      expect(value).toBeInstanceOf(Map);
      expect(value.get('s')).toBe('byte str\n\x01\xff\'"');
      expect(value.get('u')).toBe('h\xe9 \u2603 \\');
      expect([value.get('i'), value.get('neg'), value.get('l'), value.get('nl')]).toEqual([1, -5, 2n ** 70n, -(2n ** 70n)]);
      expect([value.get('f'), value.get('fn')]).toEqual([1.5, -0.25]);
      expect([...(value.get('t') as PyValue[])]).toEqual([1, 2]);
      expect([value.get('n'), value.get('b'), value.get('c')]).toEqual([null, true, false]);
      expect(value.get('lst')).toEqual([1, 'x']);
      expect(value.get('big')).toBe('y'.repeat(300));
    }
  });
});
