/**
 * The hot path of a manager reply, against real CPython output: numpy array data (an array adopts the
 * buffer its bytes were copied into, so one allocation and one copy per array) and the table of short
 * strs decoded before. What must hold whatever the shortcut: the values are exactly CPython's, the
 * result never aliases the caller's input, from any byte offset, and a bytes value an array was built
 * from keeps its own bytes. Owned mode (a manager reply frame the decoder may keep and rearrange): the same
 * values, numpy data viewed in place when it is a large share of the reply, and every bound still refused.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ShmReaderErrorCode } from '../src/errors.js';
import { decodePickle, decodePickleTakingOwnership, NdArray, PickleError, type PyValue } from '../src/pickle/index.js';
import { FIXTURES, findPythons, hasNumpy, hexToBytes, mismatch, type Json } from './pickle-helpers.js';

const python = findPythons().find(hasNumpy);

/** Runs `body` in CPython with describe.py importable; it prints JSON lines `{"pickle": hex, "expect": ...}`. */
function cpython(body: string): { pickle: Uint8Array; expect: Json }[] {
  if (!python) throw new Error('no CPython 3.8+ with numpy under ~/.pyenv/versions');
  const script = `import json, pickle, sys, warnings\nwarnings.simplefilter("ignore", DeprecationWarning)\nfrom describe import describe, np\n${body}`;
  const out = execFileSync(python.path, ['-c', script], { cwd: FIXTURES, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' });
  return out
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { pickle: string; expect: Json })
    .map((row) => ({ pickle: hexToBytes(row.pickle), expect: row.expect }));
}

/** `bytes` copied into a fresh buffer at byte offset `offset` (a Buffer or a plain Uint8Array). */
function placedAt(bytes: Uint8Array, offset: number, asBuffer: boolean): Uint8Array {
  const whole = asBuffer ? Buffer.alloc(bytes.length + offset + 8) : new Uint8Array(bytes.length + offset + 8);
  whole.set(bytes, offset);
  return whole.subarray(offset, offset + bytes.length);
}

describe('numpy array data', () => {
  it('finds CPython with numpy', () => {
    expect(python).toBeDefined();
  });

  // One array of each layout the data path treats differently, in a napari-style reply, at every protocol
  // (2–4: _reconstruct + BUILD with BINBYTES; 5: _frombuffer with BYTEARRAY8, or BINBYTES8 when read-only).
  const replies = cpython(`
readonly = np.arange(6, dtype="<f4"); readonly.flags.writeable = False
value = ("#RETURN", {"layers": {140245342: {
    "seen": np.stack([np.arange(64) // 8, np.arange(64) % 8], axis=1).astype(np.int64),
    "corners": np.array([[0.0, 0.0], [512.5, 1024.0]]),
    "big_endian": np.array([1.5, -2.0, float("inf")], dtype=">f8"),
    "big_endian_i4": np.array([1, -2, 70000], dtype=">i4"),
    "complex_be": np.array([1 + 2j, -0.5j], dtype=">c8"),
    "fortran": np.asfortranarray(np.arange(24, dtype=np.float64).reshape(2, 3, 4)),
    "empty": np.zeros((0, 3), dtype=np.int64),
    "bools": np.array([True, False, True]),
    "odd_size": np.arange(7, dtype=np.uint8),
    "halves": np.array([1.5, -0.0, 65504], dtype=np.float16),
    "records": np.zeros(2, dtype=[("a", "u1"), ("b", "<f8")]),
    "readonly": readonly,
    "big": np.arange(9000, dtype=np.float64),
}}})
for protocol in (2, 3, 4, 5):
    print(json.dumps({"pickle": pickle.dumps(value, protocol).hex(), "expect": describe(value)}))
`);

  it('decodes exactly what CPython holds from any byte offset, and never aliases the input', () => {
    expect(replies.map((r) => r.pickle.length).every((n) => n > 70_000)).toBe(true);
    for (const [index, reply] of replies.entries()) {
      for (const asBuffer of [false, true]) {
        // Offsets 0–7 put the 8-byte elements at every alignment: a view of the input could not even be made.
        for (let offset = 0; offset < 8; offset++) {
          const input = placedAt(reply.pickle, offset, asBuffer);
          const value = decodePickle(input);
          const where = `protocol ${index + 2}, ${asBuffer ? 'Buffer' : 'Uint8Array'} at offset ${offset}`;
          expect(mismatch(value, reply.expect), where).toBeNull();
          input.fill(0xff); // the caller reuses its buffer: what was decoded must not change
          expect(mismatch(value, reply.expect), `${where}, after overwriting the input`).toBeNull();
        }
      }
    }
  });

  it('each array has a buffer of its own (no two arrays, and no array and the input, share memory)', () => {
    for (const reply of replies) {
      const layer = (((decodePickle(reply.pickle) as PyValue[])[1] as Map<PyValue, PyValue>).get('layers') as Map<PyValue, PyValue>).get(140245342) as Map<PyValue, PyValue>;
      const buffers = new Set<ArrayBufferLike>();
      let arrays = 0;
      for (const value of layer.values()) {
        if (!(value instanceof NdArray) || Array.isArray(value.data)) continue;
        arrays++;
        buffers.add(value.data.buffer);
        expect(value.data.buffer).not.toBe(reply.pickle.buffer);
        expect(value.data.byteLength).toBe(value.data.buffer.byteLength); // exactly the array's bytes, nothing pinned beside them
      }
      expect(arrays).toBe(13);
      expect(buffers.size).toBe(arrays);
    }
  });

  // A pickle in which one bytes object is both an array's data and a value of its own (numpy's pickles
  // never do this, a hand-made __reduce__ can): CPython's pickler memoizes the bytes and GETs it again.
  const shared = cpython(`
from numpy.core.multiarray import _reconstruct
RAW = bytes.fromhex("00000001fffffffe00011170")  # 1, -2, 70000 as big-endian int32

class Array:
    def __init__(self, dtype):
        self.dtype = dtype
    def __reduce__(self):
        return (_reconstruct, (np.ndarray, (0,), b"b"), (1, (3,), np.dtype(self.dtype), False, RAW))

for protocol in (2, 4):
    data = pickle.dumps([Array(">i4"), RAW, Array(">i4"), Array("<i4")], protocol)
    print(json.dumps({"pickle": data.hex(), "expect": describe(pickle.loads(data))}))
`);

  it('a bytes value shared with an array keeps its bytes when the array is byte-swapped', () => {
    expect(shared.length).toBe(2);
    for (const row of shared) {
      const [first, raw, second, native] = decodePickle(row.pickle) as [NdArray, Uint8Array, NdArray, NdArray];
      expect(mismatch([first, raw, second, native], row.expect)).toBeNull();
      const bufferOf = (array: NdArray): ArrayBufferLike => (array.data as Int32Array).buffer;
      expect([...raw]).toEqual([0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe, 0, 1, 0x11, 0x70]);
      expect(first.byteSwapped).toBe(true);
      expect(first.data).toEqual(new Int32Array([1, -2, 70000]));
      // Swapped data is never the shared bytes, and the two arrays do not share it either.
      expect(bufferOf(first)).not.toBe(raw.buffer);
      expect(bufferOf(second)).not.toBe(bufferOf(first));
      // A native-order array takes over the buffer its bytes were copied into (the one copy it costs):
      // here that buffer is also the bytes value's, as numpy's array shares the bytes it was unpickled from.
      expect(native.byteSwapped).toBe(false);
      expect(bufferOf(native)).toBe(raw.buffer);
    }
  });

  describe('of an owned reply (decodePickleTakingOwnership)', () => {
  const big = cpython(`
value = ("#RETURN", {"layers": {140245342: {"tile_state": {
    "seen": np.stack([np.arange(4096) // 1000, np.arange(4096) % 1000], axis=1).astype(np.int64),
    "corners": np.array([[0.0, 0.0], [512.0, 512.0]]),
    "big_endian": np.arange(3000, dtype=">f8"),
    "halves": np.arange(2000, dtype=np.float16),
}}}})
for protocol in (2, 3, 4, 5):
    print(json.dumps({"pickle": pickle.dumps(value, protocol).hex(), "expect": describe(value)}))
`);
  const tileState = (value: PyValue): Map<PyValue, PyValue> =>
    ((((value as PyValue[])[1] as Map<PyValue, PyValue>).get('layers') as Map<PyValue, PyValue>).get(140245342) as Map<PyValue, PyValue>).get('tile_state') as Map<PyValue, PyValue>;

  it('decodes exactly what CPython holds from any byte offset, and the values stay when the next reply arrives', () => {
    for (const [index, reply] of [...replies, ...big].entries()) {
      for (const asBuffer of [false, true]) {
        for (let offset = 0; offset < 8; offset++) {
          const input = placedAt(reply.pickle, offset, asBuffer);
          const value = decodePickleTakingOwnership(input);
          const where = `reply ${index}, ${asBuffer ? 'Buffer' : 'Uint8Array'} at offset ${offset}`;
          expect(mismatch(value, reply.expect), where).toBeNull();
          // The next reply lands in a buffer of its own; this one's values keep theirs.
          const next = placedAt(reply.pickle, (offset + 3) % 8, asBuffer);
          decodePickleTakingOwnership(next);
          next.fill(0xff);
          expect(mismatch(value, reply.expect), `${where}, after the next reply`).toBeNull();
        }
      }
    }
  });

  it('views the bulk of the reply in place, aligned, and copies small or byte-swapped arrays', () => {
    // Protocols 3–5 (protocol 2 pickles bytes as `_codecs.encode(str, 'latin1')`, decoded into a new buffer).
    for (const reply of big.slice(1)) {
      for (let offset = 0; offset < 8; offset++) {
        const input = placedAt(reply.pickle, offset, true);
        const state = tileState(decodePickleTakingOwnership(input));
        const seen = state.get('seen') as NdArray;
        const seenData = seen.data as BigInt64Array;
        // No copy: the int64 data is in the reply's own memory, moved to an 8-byte boundary.
        expect(seenData.buffer).toBe(input.buffer);
        expect(seenData.byteOffset % 8).toBe(0);
        expect(seenData.byteOffset).toBeGreaterThanOrEqual(input.byteOffset);
        expect(seenData.byteOffset + seenData.byteLength).toBeLessThanOrEqual(input.byteOffset + input.byteLength);
        expect(seenData[2 * 1500]).toBe(1n);
        expect(seenData[2 * 1500 + 1]).toBe(500n);
        // Under a quarter of the reply: a copy of its own, so keeping it does not keep the reply.
        const corners = state.get('corners') as NdArray;
        expect((corners.data as Float64Array).buffer).not.toBe(input.buffer);
        expect((corners.data as Float64Array).byteLength).toBe((corners.data as Float64Array).buffer.byteLength);
        // Byte-swapped: converted into a buffer of its own, never in the reply.
        const swapped = state.get('big_endian') as NdArray;
        expect(swapped.byteSwapped).toBe(true);
        expect((swapped.data as Float64Array).buffer).not.toBe(input.buffer);
      }
    }
  });

  // Two large bytes values a few opcode bytes apart: aligning the second must not move it over the first.
  const adjacent = cpython(`
# The first is too short to be moved (under 64 bytes) but still viewed (a quarter of the pickle), the second
# is moved down over the 3 opcode bytes between them: up to 7 places, unless the first's end stops it.
for value in ([bytes([5]) * 60, bytes([7]) * 100], [bytes(range(256)) * 2, bytes([7]) * 512, b"tail"]):
    for protocol in (3, 4, 5):
        print(json.dumps({"pickle": pickle.dumps(value, protocol).hex(), "expect": describe(value)}))
`);

  it('bytes values as views: never moved over an earlier one, and shared through the memo intact', () => {
    for (const row of adjacent) {
      for (let offset = 0; offset < 8; offset++) {
        const input = placedAt(row.pickle, offset, offset % 2 === 0);
        const value = decodePickleTakingOwnership(input);
        expect(mismatch(value, row.expect), `offset ${offset}`).toBeNull();
      }
    }
    for (const row of shared) {
      for (let offset = 0; offset < 8; offset++) {
        const value = decodePickleTakingOwnership(placedAt(row.pickle, offset, true));
        expect(mismatch(value, row.expect), `offset ${offset}`).toBeNull();
      }
    }
  });

  it('refuses every bound with the same codes as the copying decoder', () => {
    const reply = big[2]!.pickle;
    const codeOf = (run: () => unknown): string | undefined => {
      try {
        run();
      } catch (error) {
        return error instanceof PickleError ? error.code : `not a PickleError: ${String(error)}`;
      }
      return undefined;
    };
    const cases: [string, Uint8Array, Parameters<typeof decodePickle>[1]][] = [
      ['maxStringBytes', reply, { maxStringBytes: 1024 }],
      ['maxBytes', reply, { maxBytes: reply.length - 1 }],
      ['maxDepth', reply, { maxDepth: 3 }],
      ['maxMemo', reply, { maxMemo: 4 }],
      ['truncated', reply.subarray(0, reply.length - 100), undefined],
      ['trailing bytes', Uint8Array.from([...reply, 0x2e]), undefined],
    ];
    for (const [what, input, options] of cases) {
      const copying = codeOf(() => decodePickle(input, options));
      expect(copying, what).toMatch(/^SHM_READER_PICKLE_(LIMIT|MALFORMED)$/);
      expect(codeOf(() => decodePickleTakingOwnership(Uint8Array.from(input), options)), what).toBe(copying);
    }
    expect(codeOf(() => decodePickleTakingOwnership(reply, { maxStringBytes: 1024 }))).toBe(ShmReaderErrorCode.PICKLE_LIMIT);
  });
});
});

describe('short strs', () => {
  // Far more distinct strs than the table has slots, each twice, lengths around its 32-character bound,
  // and non-ASCII ones of the same lengths: every slot is fought over by strs of the same length.
  const rows = cpython(`
import random
rng = random.Random(7)
alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.<>|"
words = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 35))) for _ in range(5000)]
words += ["é" + w[1:] for w in words[:300] if w] + ["x" * n for n in range(0, 40)] + ["", "\\x7f", "\\x00"]
# Equal strs that are distinct objects are written out again (the pickler memoizes by identity).
value = [words, {w: (w, [w]) for w in words}, [w.encode().decode() for w in reversed(words)]]
for protocol in (2, 4, 5):
    print(json.dumps({"pickle": pickle.dumps(value, protocol).hex(), "expect": describe(value)}))
`);

  it('come back exactly, also when another str of the same length held the slot', () => {
    expect(rows.length).toBe(3);
    for (const row of rows) {
      // Twice: the second decode finds the strs of the first in the table.
      expect(mismatch(decodePickle(row.pickle), row.expect)).toBeNull();
      expect(mismatch(decodePickle(row.pickle), row.expect)).toBeNull();
    }
  });
});
