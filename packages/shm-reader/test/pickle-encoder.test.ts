/**
 * encodePickle: the opcodes it chooses, framing, and refusals. (That CPython reads every protocol
 * it writes is the property test in pickle-roundtrip.test.ts; here the bytes themselves are checked
 * against what CPython's pickler writes for the same manager requests.)
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ShmReaderErrorCode } from '../src/errors.js';
import { decodePickle, encodePickle, PickleError, pyFloat, pyTuple, type PyEncodable } from '../src/pickle/index.js';
import { findPythons, hexToBytes } from './pickle-helpers.js';

function errorOf(value: unknown, options?: Parameters<typeof encodePickle>[1]): PickleError {
  try {
    encodePickle(value as PyEncodable, options);
  } catch (error) {
    if (error instanceof PickleError) return error;
    throw new Error(`expected a PickleError, got ${String(error)}`);
  }
  throw new Error('expected encodePickle to throw');
}

const hexOf = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('encodePickle', () => {
  it('writes manager requests as CPython does, minus the memo', () => {
    const python = findPythons().at(-1);
    if (!python) throw new Error('no CPython found');
    // CPython's bytes with the memo writes (MEMOIZE, BINPUT) removed and the frame length fixed up: the same opcodes otherwise.
    const script = [
      'import pickle, pickletools',
      'def plain(obj, proto):',
      '    data = pickle.dumps(obj, proto)',
      '    ops = [(op, arg, pos) for op, arg, pos in pickletools.genops(data)]',
      '    out = bytearray()',
      '    for i, (op, arg, pos) in enumerate(ops):',
      '        end = ops[i + 1][2] if i + 1 < len(ops) else len(data)',
      '        if op.name in ("MEMOIZE", "FRAME", "BINPUT", "LONG_BINPUT", "PUT"): continue',
      '        out += data[pos:end]',
      '    if proto >= 4: out = out[:2] + b"\\x95" + (len(out) - 2).to_bytes(8, "little") + out[2:]',
      '    return bytes(out).hex()',
      'for proto in (2, 3, 4, 5):',
      '    print(plain(("7f00deadbeef", "put", ({"layers": {"added": ["image"], "frame": 1}, "t": 1.5, "big": 2**64, "neg": -3},), {}), proto))',
      '    print(plain((None, "create", ("napari_data",), {}), proto))',
    ].join('\n');
    const expected = execFileSync(python.path, ['-c', script], { encoding: 'utf8' }).trim().split('\n');
    const put = pyTuple('7f00deadbeef', 'put', pyTuple({ layers: { added: ['image'], frame: 1 }, t: 1.5, big: 2n ** 64n, neg: -3 }), {});
    const create = pyTuple(null, 'create', pyTuple('napari_data'), new Map());
    const actual = ([2, 3, 4, 5] as const).flatMap((protocol) => [hexOf(encodePickle(put, { protocol })), hexOf(encodePickle(create, { protocol }))]);
    expect(actual).toEqual(expected);
  });

  it('defaults to protocol 4 with one FRAME; protocols 2 and 3 have no frame', () => {
    const data = encodePickle(['x', 1]);
    expect([...data.subarray(0, 3)]).toEqual([0x80, 4, 0x95]);
    expect(Buffer.from(data).readBigUInt64LE(3)).toBe(BigInt(data.length - 11));
    expect(data.at(-1)).toBe(0x2e);
    expect([...encodePickle(null, { protocol: 2 })]).toEqual([0x80, 2, 0x4e, 0x2e]);
    expect([...encodePickle(null, { protocol: 3 })]).toEqual([0x80, 3, 0x4e, 0x2e]);
  });

  it('int vs float: integral numbers are ints, pyFloat forces a float, bigint is exact', () => {
    expect([...encodePickle(1, { protocol: 2 })]).toEqual([0x80, 2, 0x4b, 1, 0x2e]);
    expect([...encodePickle(pyFloat(1), { protocol: 2 })]).toEqual([0x80, 2, 0x47, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0x2e]);
    expect([...encodePickle(1.5, { protocol: 2 }).subarray(2, 3)]).toEqual([0x47]);
    expect([...encodePickle(-1, { protocol: 2 })]).toEqual([0x80, 2, 0x4a, 0xff, 0xff, 0xff, 0xff, 0x2e]);
    // 2^63 needs 9 bytes of two's complement: LONG1 09 00..00 80 00
    expect(hexOf(encodePickle(2n ** 63n, { protocol: 2 }))).toBe('80028a09000000000000008000' + '2e');
    expect(hexOf(encodePickle(-(2n ** 63n), { protocol: 2 }))).toBe('80028a0800000000000000802e');
    expect(decodePickle(encodePickle(2 ** 60))).toBe(2n ** 60n); // an integral double beyond 2^53 is sent exactly
    expect(decodePickle(encodePickle(-(2n ** 2100n)))).toBe(-(2n ** 2100n)); // LONG4
  });

  it('bytes at protocol 2 go through _codecs.encode like CPython; sets through builtins.set', () => {
    const python = findPythons().at(-1);
    if (!python) throw new Error('no CPython found');
    const data = encodePickle([new Uint8Array([0, 0xe9, 0xff]), new Set([1, 'a'])], { protocol: 2 });
    const text = execFileSync(python.path, ['-c', 'import pickle,sys; print(repr(pickle.loads(bytes.fromhex(sys.argv[1]))))', hexOf(data)], {
      encoding: 'utf8',
    }).trim();
    expect(text === "[b'\\x00\\xe9\\xff', {1, 'a'}]" || text === "[b'\\x00\\xe9\\xff', {'a', 1}]").toBe(true);
  });

  it('plain objects and Maps become dicts; undefined becomes None; strings keep lone surrogates', () => {
    const value = decodePickle(encodePickle({ a: undefined, b: new Map<PyEncodable, PyEncodable>([[7, 'seven']]), s: 'x\ud800y' }));
    expect(value).toEqual(new Map<unknown, unknown>([['a', null], ['b', new Map([[7, 'seven']])], ['s', 'x\ud800y']]));
  });

  it('refuses what Python could not load or we cannot represent', () => {
    const { PICKLE_UNENCODABLE, PICKLE_LIMIT } = ShmReaderErrorCode;
    expect(errorOf(() => 1).code).toBe(PICKLE_UNENCODABLE);
    expect(errorOf(Symbol('s')).code).toBe(PICKLE_UNENCODABLE);
    expect(errorOf(new Date()).code).toBe(PICKLE_UNENCODABLE);
    expect(errorOf(new Float64Array(2)).code).toBe(PICKLE_UNENCODABLE);
    expect(errorOf(new Map([[[1], 'list key']])).code).toBe(PICKLE_UNENCODABLE); // unhashable key
    expect(errorOf(new Set([{ a: 1 }])).code).toBe(PICKLE_UNENCODABLE);
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expect(errorOf(cyclic).code).toBe(PICKLE_UNENCODABLE);
    let deep: unknown = 1;
    for (let i = 0; i < 5000; i++) deep = [deep];
    expect(errorOf(deep).code).toBe(PICKLE_LIMIT);
    expect(errorOf(1, { protocol: 1 as 2 }).code).toBe('SHM_READER_INVALID_OPTIONS');
    // shared (not cyclic) references are fine: each is written out in full
    const shared = ['s'];
    expect(decodePickle(encodePickle([shared, shared]))).toEqual([['s'], ['s']]);
  });

  it('hex helper sanity', () => {
    expect([...hexToBytes('00ff')]).toEqual([0, 255]);
  });
});
