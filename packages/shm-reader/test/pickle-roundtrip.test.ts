/**
 * Property test of the encoder and decoder against real CPython: random JS values →
 * encodePickle (protocol 2–5) → CPython `pickle.loads` → `pickle.dumps(protocol=0..5)` →
 * decodePickle, compared with the original. One long-lived interpreter per version handles all
 * cases (length-prefixed frames on stdin/stdout), so thousands of cases take seconds.
 * Cases per interpreter: PICKLE_PROPERTY_CASES (default 700); seed: PICKLE_PROPERTY_SEED.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { decodePickle, encodePickle, PyFloat, pyFloat, PyTuple, pyTuple, type PyEncodable } from '../src/pickle/index.js';
import { findPythons, floatBits, hex, mismatch, PythonPeer, seededRandom, stableJson, type Json } from './pickle-helpers.js';

const CASES = Number(process.env['PICKLE_PROPERTY_CASES'] ?? 700);
const SEED = Number(process.env['PICKLE_PROPERTY_SEED'] ?? 20260611);

/** What the decoder must return for an encoded JS value, in describe.py's terms. */
function expectationOf(value: PyEncodable): Json {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'boolean':
      return value;
    case 'number':
      return Number.isInteger(value) ? { int: BigInt(value).toString() } : { float: floatBits(value) };
    case 'bigint':
      return { int: value.toString() };
    case 'string':
      return { str: value };
    default:
      break;
  }
  if (value instanceof PyFloat) return { float: floatBits(value.value) };
  if (value instanceof Uint8Array) return { bytes: hex(value) };
  if (value instanceof PyTuple) return { tuple: value.map((v) => expectationOf(v as PyEncodable)) };
  if (Array.isArray(value)) return { list: value.map((v) => expectationOf(v as PyEncodable)) };
  if (value instanceof Map) return { dict: [...value].map(([k, v]) => [expectationOf(k), expectationOf(v)]) };
  if (value instanceof Set) return { set: [...value].map((v) => expectationOf(v)) };
  return { dict: Object.entries(value).map(([k, v]) => [{ str: k }, expectationOf(v)]) };
}

const TEXT_PIECES = ['a', 'Z', ' ', 'é', '☃', '😀', '\ud800', '\udfff', '\n', '\\', '\0', '\x1a', '\r', "'", '"', '\ufeff', 'ü'];

class Generator {
  /** Values left for the current case: bounds the size of one case (nested big containers multiply). */
  private budget = 0;

  constructor(private readonly rand: () => number) {}

  /** A fresh case of at most ~`size` values. */
  next(size = 200): PyEncodable {
    this.budget = size;
    return this.value(0);
  }

  private int(n: number): number {
    return Math.floor(this.rand() * n);
  }

  private pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  integer(): number | bigint {
    switch (this.int(6)) {
      case 0:
        return this.int(300);
      case 1:
        return this.int(2 ** 32) - 2 ** 31;
      case 2:
        return this.pick([2 ** 31, -(2 ** 31) - 1, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53, 65535, 65536, -1, 255, 256, 2 ** 47, -(2 ** 48)]);
      case 3:
        return Math.floor((this.rand() - 0.5) * 2 ** 53);
      default: {
        const bits = 1 + this.int(this.rand() < 0.05 ? 2500 : 200);
        let big = 0n;
        for (let i = 0; i < bits; i += 30) big = (big << 30n) | BigInt(this.int(2 ** 30));
        big &= (1n << BigInt(bits)) - 1n;
        return this.rand() < 0.5 ? -big : big;
      }
    }
  }

  float(): number | PyFloat {
    let x: number;
    if (this.rand() < 0.3) {
      x = this.pick([0, -0, 1, -1.5, Number.NaN, Infinity, -Infinity, 5e-324, 1.7976931348623157e308, 0.1, 1e16, 2 ** 53]);
    } else {
      const view = new DataView(new ArrayBuffer(8));
      view.setUint32(0, this.int(2 ** 32));
      view.setUint32(4, this.int(2 ** 32));
      x = view.getFloat64(0);
    }
    // An integral number would encode as int: force the float.
    return Number.isInteger(x) || Object.is(x, -0) ? pyFloat(x) : x;
  }

  text(): string {
    const length = this.rand() < 0.01 ? this.pick([255, 256, 300, 70_000]) : this.int(12);
    let s = '';
    for (let i = 0; i < length; i++) s += this.rand() < 0.7 ? String.fromCharCode(32 + this.int(95)) : this.pick(TEXT_PIECES);
    return s;
  }

  bytes(): Uint8Array {
    const length = this.rand() < 0.01 ? this.pick([255, 256, 300, 70_000]) : this.int(12);
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.int(256);
    return out;
  }

  /** Hashable, and distinct from every other key under Python equality (1 == 1.0 == True). */
  key(taken: Set<string>): PyEncodable | undefined {
    for (let attempt = 0; attempt < 5; attempt++) {
      const kind = this.int(5);
      const key: PyEncodable =
        kind === 0 ? this.text() : kind === 1 ? this.integer() : kind === 2 ? this.bytes() : kind === 3 ? null : pyTuple(this.text(), this.integer());
      const id = stableJson(expectationOf(key));
      if (!taken.has(id)) {
        taken.add(id);
        return key;
      }
    }
    return undefined;
  }

  value(depth: number): PyEncodable {
    this.budget--;
    const kind = this.int(depth >= 4 || this.budget <= 0 ? 7 : 13);
    switch (kind) {
      case 0:
        return null;
      case 1:
        return this.rand() < 0.5;
      case 2:
      case 3:
        return this.integer();
      case 4:
        return this.float();
      case 5:
        return this.text();
      case 6:
        return this.bytes();
      case 7:
        // Now and then a list longer than CPython's 1000-item APPENDS batch (of leaves only).
        if (this.rand() < 0.02) return Array.from({ length: 1000 + this.int(1600) }, () => this.integer());
        return Array.from({ length: this.int(6) }, () => this.value(depth + 1));
      case 8:
        return pyTuple(...Array.from({ length: this.int(6) }, () => this.value(depth + 1)));
      case 9: {
        const map = new Map<PyEncodable, PyEncodable>();
        const taken = new Set<string>();
        const big = this.rand() < 0.02; // longer than a SETITEMS batch, with leaf values
        for (let i = big ? 1000 + this.int(600) : this.int(5); i > 0; i--) {
          const key = this.key(taken);
          if (key !== undefined) map.set(key, big ? this.text() : this.value(depth + 1));
        }
        return map;
      }
      case 10: {
        const object: Record<string, PyEncodable> = {};
        for (let i = this.int(5); i > 0; i--) object[this.text()] = this.value(depth + 1);
        return object;
      }
      case 11: {
        const set = new Set<PyEncodable>();
        const taken = new Set<string>();
        for (let i = this.int(5); i > 0; i--) {
          const key = this.key(taken);
          if (key !== undefined) set.add(key);
        }
        return set;
      }
      default:
        return this.pick([undefined, 0, -0, true, '']);
    }
  }
}

const pythons = findPythons();
const peers: PythonPeer[] = [];

afterAll(async () => {
  await Promise.all(peers.map((p) => p.close()));
});

describe('round trip through CPython', () => {
  it('has interpreters to test against', () => {
    console.log(`pickle round trip: ${pythons.map((p) => p.version).join(', ')}; ${CASES} cases each, seed ${SEED}`);
    expect(pythons.length).toBeGreaterThan(0);
  });

  it.each(pythons.map((p, i) => [p.version, p, i] as const))(
    'CPython %s: random values survive JS → Python → every protocol → JS',
    async (_version, python, index) => {
      const peer = new PythonPeer(python);
      peers.push(peer);
      const generator = new Generator(seededRandom(SEED + index));
      const rand = seededRandom(SEED * 7 + index);
      const failures: string[] = [];
      let decodes = 0;
      for (let i = 0; i < CASES && failures.length < 10; i++) {
        const value = generator.next();
        const expected = expectationOf(value);
        const protocol = (2 + Math.floor(rand() * 4)) as 2 | 3 | 4 | 5;
        const encoded = encodePickle(value, { protocol });
        const own = mismatch(decodePickle(encoded), expected);
        if (own) failures.push(`case ${i} own decode: ${own}`);
        const reply = await peer.roundTrip(encoded);
        if (!reply.ok) {
          failures.push(`case ${i} (protocol ${protocol}): CPython could not load it: ${reply.error}`);
          continue;
        }
        if (reply.highestProtocol > protocol) failures.push(`case ${i}: asked protocol ${protocol}, wrote opcodes of ${reply.highestProtocol}`);
        reply.dumps.forEach((dump, p) => {
          decodes++;
          const m = mismatch(decodePickle(dump), expected);
          if (m) failures.push(`case ${i} python protocol ${p}: ${m}`);
        });
      }
      expect(failures).toEqual([]);
      expect(decodes).toBe(CASES * 6);
    },
    300_000,
  );
});
