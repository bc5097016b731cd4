/**
 * The WIRE.md reference vectors (copied into fixtures/pickles from a CPython 3.11.7 run of
 * dump_pickles.py): each decodes to exactly what CPython's own pickle.loads produces, checked live
 * against a real interpreter with numpy, plus the value-model details the manager client relies on.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodePickle, NdArray, PyException, PyObject, PyToken, PyTuple, type PyValue } from '../src/pickle/index.js';
import { hexToBytes } from './pickle-helpers.js';
import { FIXTURES, findPythons, hasNumpy, mismatch, type Json } from './pickle-helpers.js';

interface Vector {
  name: string;
  file: string;
  frame_file: string;
  protocol: number;
  length: number;
  sha256: string;
}

const index = JSON.parse(readFileSync(join(FIXTURES, 'index.json'), 'utf8')) as { vectors: Vector[] };
const vectors = index.vectors;
const load = (name: string): Uint8Array => new Uint8Array(readFileSync(join(FIXTURES, `${name}.bin`)));
const decodeVector = (name: string): PyValue => decodePickle(load(name));
/** The result part of a `(kind, result)` reply. */
const result = (name: string): PyValue => {
  const reply = decodeVector(name);
  if (!(reply instanceof PyTuple) || reply.length !== 2) throw new Error(`${name} is not a reply`);
  return reply[1] ?? null;
};

describe('WIRE vectors', () => {
  let expected: Map<string, Json>;

  beforeAll(() => {
    const python = findPythons().find(hasNumpy);
    if (!python) throw new Error('no CPython 3.8+ with numpy under ~/.pyenv/versions: cannot compute the expected values');
    console.log(`pickle vectors: expectations from ${python.path}`);
    const out = execFileSync(python.path, ['describe_files.py', ...vectors.map((v) => v.file)], {
      cwd: FIXTURES,
      maxBuffer: 256 * 1024 * 1024,
      encoding: 'utf8',
    });
    expected = new Map(
      out
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { file: string; expect: Json })
        .map((row) => [row.file, row.expect]),
    );
  });

  it('has the 55 vectors with their recorded sizes and hashes', () => {
    expect(vectors.length).toBe(55);
    for (const v of vectors) {
      const data = readFileSync(join(FIXTURES, v.file));
      expect(data.length, v.name).toBe(v.length);
      expect(createHash('sha256').update(data).digest('hex'), v.name).toBe(v.sha256);
    }
  });

  it.each(vectors.map((v) => [v.name, v] as const))('%s decodes to what CPython loads', (_name, v) => {
    const value = decodePickle(load(v.name));
    expect(mismatch(value, expected.get(v.file) ?? null)).toBeNull();
  });

  it('frames/ hold the same payloads behind a 4-byte big-endian length', () => {
    for (const v of vectors) {
      const frame = readFileSync(join(FIXTURES, v.frame_file));
      expect(frame.readUInt32BE(0), v.name).toBe(v.length);
      expect(Buffer.compare(frame.subarray(4), readFileSync(join(FIXTURES, v.file))), v.name).toBe(0);
    }
  });
});

describe('manager replies in the value model', () => {
  it('requests are (ident, method, args tuple, kwargs Map)', () => {
    const request = decodeVector('req_queue_put');
    expect(request).toBeInstanceOf(PyTuple);
    const [ident, method, args, kwargs] = request as PyTuple;
    expect([ident, method]).toEqual(['7f00deadbeef', 'put']);
    expect(args).toBeInstanceOf(PyTuple);
    expect(kwargs).toEqual(new Map());
    const message = (args as PyTuple)[0] as Map<PyValue, PyValue>;
    expect(message.get('test_command')).toEqual(new Map<PyValue, PyValue>([['value', 42], ['names', ['fred', 'joe']]]));
  });

  it('queue.Empty and KeyError are PyException data, not thrown', () => {
    for (const name of ['rep_error_empty', 'rep_error_empty_p5']) {
      const empty = result(name);
      expect(empty).toBeInstanceOf(PyException);
      expect((empty as PyException).isQueueEmpty).toBe(true);
      expect((empty as PyException).qualifiedName).toBe('_queue.Empty');
    }
    const keyError = result('rep_error_keyerror') as PyException;
    expect(keyError.qualifiedName).toBe('builtins.KeyError');
    expect([...keyError.args]).toEqual(['nope']);
    expect(keyError.isQueueEmpty).toBe(false);
  });

  it('Token decodes to PyToken (alone, in #PROXY and inside get_methods)', () => {
    for (const name of ['token', 'token_p5']) {
      expect(decodeVector(name)).toEqual(new PyToken('Iterator', ['127.0.0.1', 40000], '7f00deadbeef'));
    }
    const [exposed, token] = result('rep_proxy') as PyTuple;
    expect([...(exposed as PyTuple)]).toEqual(['__next__', 'send', 'throw', 'close']);
    expect(token).toEqual(new PyToken('Iterator', ['127.0.0.1', 40000], '7f00deadbeef'));
    const request = decodeVector('req_get_methods') as PyTuple;
    expect(((request[2] as PyTuple)[0] as PyToken).typeid).toBe('napari_data');
  });

  it('bytes are private copies, also when the input is a Buffer the caller will reuse', () => {
    const input = readFileSync(join(FIXTURES, 'rep_dict_get.bin')); // a Buffer
    const bytes = (result('rep_dict_get') as Map<PyValue, PyValue>).get('bytes');
    const fromBuffer = ((decodePickle(input) as PyTuple)[1] as Map<PyValue, PyValue>).get('bytes') as Uint8Array;
    expect(Buffer.isBuffer(fromBuffer)).toBe(false);
    expect(fromBuffer).toEqual(bytes);
    input.fill(0);
    expect([...fromBuffer]).toEqual([0, 1, 255]);
  });

  it('a shared reference decodes to the same object twice (memo GET)', () => {
    const list = result('rep_shared_ref') as PyValue[][];
    expect(list[0]).toBe(list[1]);
  });

  it('exact integers: safe ones are numbers, others bigint with the right sign', () => {
    const ints = (result('rep_dict_get') as Map<PyValue, PyValue>).get('ints');
    expect(ints).toEqual([0, 255, 256, 65535, 65536, -1, -2147483648, 2147483648, 9223372036854775808n, -1180591620717411303424n]);
    const misc = result('rep_misc_types') as PyTuple;
    expect(misc[2]).toBe(10n ** 40n);
    expect(misc[3]).toBe(-(2n ** 64n));
  });
});

describe('numpy vectors', () => {
  it('C and Fortran order: the data keeps numpy layout and says which', () => {
    for (const suffix of ['', '_p5']) {
      const c = result(`rep_np_array_c${suffix}`) as NdArray;
      expect(c.shape).toEqual([2, 3]);
      expect(c.order).toBe('C');
      expect(c.data).toEqual(new Int32Array([0, 1, 2, 3, 4, 5]));
      const f = result(`rep_np_array_f${suffix}`) as NdArray;
      expect(f.order).toBe('F');
      // element (i, j) sits at i + j * rows in Fortran order
      expect(f.data).toEqual(new Int32Array([0, 3, 1, 4, 2, 5]));
    }
  });

  it('big-endian float64 is swapped to native', () => {
    const be = result('rep_np_array_be_f8') as NdArray;
    expect(be.data).toEqual(new Float64Array([1.5, -2]));
    expect(be.byteSwapped).toBe(true);
    expect(be.dtype.str).toBe('<f8');
  });

  it('non-contiguous views arrive as C-ordered copies; 0-d and bool arrays', () => {
    expect((result('rep_np_array_noncontig') as NdArray).data).toEqual(new Int32Array([0, 2, 3, 5]));
    const zeroD = result('rep_np_array_0d') as NdArray;
    expect(zeroD.shape).toEqual([]);
    expect(zeroD.size).toBe(1);
    expect(zeroD.data).toEqual(new Uint16Array([7]));
    const bools = result('rep_np_array_bool') as NdArray;
    expect(bools.dtype.name).toBe('bool');
    expect(bools.data).toEqual(new Uint8Array([1, 0]));
  });

  it('structured arrays: a DataView plus a field table (packed and aligned)', () => {
    for (const name of ['rep_np_recarray', 'rep_np_recarray_p5']) {
      const rec = result(name) as NdArray;
      expect(rec.data).toBeInstanceOf(DataView);
      const fields = rec.dtype.fields ?? [];
      expect(fields.map((f) => [f.name, f.dtype.str, f.offset])).toEqual([
        ['frame', '<u4', 0],
        ['t', '<f8', 4],
        ['xy', '|V8', 12],
        ['tag', '|S5', 20],
      ]);
      expect(fields[2]?.dtype.subarray?.shape).toEqual([2]);
      expect(fields[2]?.dtype.subarray?.base.str).toBe('<f4');
      const view = rec.data as DataView;
      const size = rec.dtype.itemSize;
      expect(size).toBe(25);
      expect([view.getUint32(size, true), view.getFloat64(size + 4, true), view.getFloat32(size + 16, true)]).toEqual([2, 1, -2]);
    }
    const aligned = result('rep_np_recarray_aligned') as NdArray;
    expect(aligned.dtype.itemSize).toBe(16);
    expect(aligned.dtype.fields?.map((f) => f.offset)).toEqual([0, 8]);
  });

  it('numpy scalars are JS numbers; a dtype is a NumpyDType', () => {
    expect(result('rep_np_float64')).toBe(2.5);
    expect(result('rep_np_float64_p5')).toBe(2.5);
    expect(result('rep_np_int64')).toBe(-7);
    const dtype = result('rep_np_dtype');
    expect(dtype).toMatchObject({ kind: 'f', itemSize: 4, byteOrder: '<' });
    expect((dtype as { name: string }).name).toBe('float32');
  });
});

describe('opaque objects keep everything the pickle says', () => {
  it('list/dict subclasses, attributes and keyword-only constructors (NEWOBJ_EX) at every protocol', () => {
    const python = findPythons().at(-1);
    if (!python) throw new Error('no CPython found');
    const script = [
      'import pickle',
      'class L(list): pass',
      'class D(dict): pass',
      'class K:',
      '    def __init__(self, *, size): self.size = size',
      '    def __getnewargs_ex__(self): return ((), {"size": self.size})',
      'l = L([1, 2]); l.tag = "t"',
      'd = D(a=1); d.tag = "u"',
      'for p in range(6): print(pickle.dumps([l, d, K(size=3)], protocol=p).hex())',
    ].join('\n');
    const lines = execFileSync(python.path, ['-c', script], { encoding: 'utf8' }).trim().split('\n');
    expect(lines).toHaveLength(6);
    lines.forEach((hex, protocol) => {
      const [l, d, k] = decodePickle(hexToBytes(hex)) as PyObject[];
      expect(l).toBeInstanceOf(PyObject);
      expect([l?.qualifiedName, d?.qualifiedName, k?.qualifiedName]).toEqual(['__main__.L', '__main__.D', '__main__.K']);
      // protocols 0-1 pass the contents as the copyreg._reconstructor state; 2+ append them
      const items = protocol < 2 ? l?.args[0] : l?.listItems;
      expect(items, `protocol ${protocol}`).toEqual([1, 2]);
      expect(l?.state).toEqual(new Map([['tag', 't']]));
      const entries = protocol < 2 ? d?.args[0] : d?.dictItems;
      expect(entries, `protocol ${protocol}`).toEqual(new Map([['a', 1]]));
      expect(d?.state).toEqual(new Map([['tag', 'u']]));
      expect(k?.state).toEqual(new Map([['size', 3]]));
      if (protocol >= 4) expect(k?.kwargs).toEqual(new Map([['size', 3]]));
    });
  });
});
