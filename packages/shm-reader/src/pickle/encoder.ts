/**
 * A pickle writer for the plain data that manager requests and commands carry.
 *
 * It emits exactly the opcodes CPython's own pickler uses for these types (WIRE §3.4), without
 * the memo (nothing is shared, so references are never needed) and, for protocol 4+, inside one
 * FRAME. Output loads with `pickle.loads` on CPython 3.8–3.14.
 */
import { ShmReaderErrorCode } from '../errors.js';
import { PickleError } from './errors.js';
import { Op } from './opcodes.js';
import { PyFloat, PyTuple, type PyEncodable, type PyValue } from './values.js';

export interface PickleEncodeOptions {
  /**
   * Pickle protocol. 2 and 3 are the most portable; 4 is what CPython 3.8–3.13 send; 5 what 3.14 sends.
   * @default 4
   */
  protocol?: 2 | 3 | 4 | 5;
  /** Deepest nesting accepted (deeper values throw `PICKLE_LIMIT`). @default 1000 */
  maxDepth?: number;
}

export const PICKLE_ENCODE_DEFAULTS: Readonly<Required<PickleEncodeOptions>> = Object.freeze({ protocol: 4, maxDepth: 1000 });

/** CPython writes lists, dicts and sets in batches of this many items. */
const BATCH = 1000;

const utf8Encoder = new TextEncoder();

/**
 * Encodes a value as a pickle. Throws `PickleError` (`PICKLE_UNENCODABLE`, `PICKLE_LIMIT`, `INVALID_OPTIONS`) only.
 * Decoded plain data (`PyValue` made of the types in `PyEncodable`) can be passed back as is; decoded
 * objects that only model Python objects (NdArray, PyObject, ...) are refused as unencodable.
 */
export function encodePickle(value: PyEncodable | PyValue, options?: PickleEncodeOptions): Uint8Array {
  const protocol = options?.protocol ?? PICKLE_ENCODE_DEFAULTS.protocol;
  if (protocol !== 2 && protocol !== 3 && protocol !== 4 && protocol !== 5) {
    throw new PickleError(ShmReaderErrorCode.INVALID_OPTIONS, `protocol must be 2, 3, 4 or 5, not ${String(protocol)}`);
  }
  const maxDepth = options?.maxDepth ?? PICKLE_ENCODE_DEFAULTS.maxDepth;
  const writer = new Encoder(protocol, maxDepth);
  return writer.finish(value);
}

function unencodable(message: string): PickleError {
  return new PickleError(ShmReaderErrorCode.PICKLE_UNENCODABLE, message);
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return value.constructor?.name ?? 'object';
}

class Encoder {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  private pos = 0;
  /** Objects on the current path, to refuse cycles (Python would need the memo for them). */
  private readonly active = new Set<object>();
  private depth = 0;

  constructor(
    private readonly protocol: 2 | 3 | 4 | 5,
    private readonly maxDepth: number,
  ) {}

  finish(value: unknown): Uint8Array {
    this.byte(Op.PROTO);
    this.byte(this.protocol);
    const framed = this.protocol >= 4;
    const frameAt = this.pos;
    if (framed) {
      this.byte(Op.FRAME);
      this.pos += 8; // length patched below
    }
    this.value(value);
    this.byte(Op.STOP);
    if (framed) {
      const length = this.pos - frameAt - 9;
      this.view.setUint32(frameAt + 1, length >>> 0, true);
      this.view.setUint32(frameAt + 5, Math.floor(length / 0x1_0000_0000), true);
    }
    return this.buf.slice(0, this.pos);
  }

  // ----- buffer -----

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
    this.view = new DataView(grown.buffer);
  }

  private byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  private u32(n: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, n, true);
    this.pos += 4;
  }

  private u64(n: number): void {
    this.ensure(8);
    this.view.setUint32(this.pos, n >>> 0, true);
    this.view.setUint32(this.pos + 4, Math.floor(n / 0x1_0000_0000), true);
    this.pos += 8;
  }

  private raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  // ----- values -----

  private value(value: unknown): void {
    switch (typeof value) {
      case 'undefined':
        this.byte(Op.NONE);
        return;
      case 'boolean':
        this.byte(value ? Op.NEWTRUE : Op.NEWFALSE);
        return;
      case 'number':
        if (Number.isInteger(value)) this.int(value);
        else this.float(value);
        return;
      case 'bigint':
        this.int(value);
        return;
      case 'string':
        this.str(value);
        return;
      case 'object':
        break;
      default:
        throw unencodable(`cannot pickle a ${typeof value}`);
    }
    if (value === null) {
      this.byte(Op.NONE);
      return;
    }
    if (value instanceof PyFloat) {
      if (typeof value.value !== 'number') throw unencodable('PyFloat must hold a number');
      this.float(value.value);
      return;
    }
    if (value instanceof Uint8Array) {
      this.bytes(value);
      return;
    }
    if (ArrayBuffer.isView(value)) throw unencodable(`cannot pickle a ${describe(value)} (only Uint8Array → bytes)`);
    this.enter(value);
    if (value instanceof PyTuple) this.tuple(value);
    else if (Array.isArray(value)) this.list(value);
    else if (value instanceof Map) this.dict(value.entries(), value.size);
    else if (value instanceof Set) this.set(value);
    else if (isPlainObject(value)) this.dict(Object.entries(value)[Symbol.iterator](), Object.keys(value).length);
    else throw unencodable(`cannot pickle a ${describe(value)}`);
    this.leave(value);
  }

  private enter(value: object): void {
    if (this.active.has(value)) throw unencodable('cannot pickle a value that contains itself');
    if (++this.depth > this.maxDepth) {
      throw new PickleError(ShmReaderErrorCode.PICKLE_LIMIT, `value nests deeper than maxDepth ${this.maxDepth}`);
    }
    this.active.add(value);
  }

  private leave(value: object): void {
    this.active.delete(value);
    this.depth--;
  }

  private int(value: number | bigint): void {
    if (typeof value === 'number' && value >= -0x8000_0000 && value <= 0x7fff_ffff) {
      if (value >= 0 && value < 0x100) {
        this.byte(Op.BININT1);
        this.byte(value);
      } else if (value >= 0 && value < 0x10000) {
        this.ensure(3);
        this.buf[this.pos++] = Op.BININT2;
        this.view.setUint16(this.pos, value, true);
        this.pos += 2;
      } else {
        this.ensure(5);
        this.buf[this.pos++] = Op.BININT;
        this.view.setInt32(this.pos, value, true);
        this.pos += 4;
      }
      return;
    }
    const big = BigInt(value);
    if (big >= -0x8000_0000n && big <= 0x7fff_ffffn) {
      this.int(Number(big));
      return;
    }
    // Minimal two's-complement little-endian bytes, as CPython's encode_long writes them.
    const magnitude = big < 0n ? -big - 1n : big;
    const bits = magnitude.toString(2).length;
    const n = Math.floor(bits / 8) + 1;
    const unsigned = big < 0n ? (1n << BigInt(8 * n)) + big : big;
    const hex = unsigned.toString(16).padStart(2 * n, '0');
    if (n < 256) {
      this.byte(Op.LONG1);
      this.byte(n);
    } else {
      this.byte(Op.LONG4);
      this.u32(n);
    }
    this.ensure(n);
    for (let i = 0; i < n; i++) {
      const at = hex.length - 2 * (i + 1);
      this.buf[this.pos++] = Number.parseInt(hex.slice(at, at + 2), 16);
    }
  }

  private float(value: number): void {
    this.ensure(9);
    this.buf[this.pos++] = Op.BINFLOAT;
    this.view.setFloat64(this.pos, value, false);
    this.pos += 8;
  }

  private str(value: string): void {
    // Reserve the longest header, write the UTF-8, then pick the header and close the gap.
    const maxBytes = value.length * 3;
    this.ensure(9 + maxBytes);
    const headerAt = this.pos;
    const bodyAt = headerAt + 9;
    const length = writeUtf8(value, this.buf, bodyAt);
    let header: number;
    if (length < 0x100 && this.protocol >= 4) {
      this.buf[headerAt] = Op.SHORT_BINUNICODE;
      this.buf[headerAt + 1] = length;
      header = 2;
    } else if (length <= 0xffff_ffff) {
      this.buf[headerAt] = Op.BINUNICODE;
      this.view.setUint32(headerAt + 1, length, true);
      header = 5;
    } else {
      if (this.protocol < 4) throw unencodable('str longer than 4 GiB needs protocol 4');
      this.buf[headerAt] = Op.BINUNICODE8;
      this.pos = headerAt + 1;
      this.u64(length);
      header = 9;
    }
    this.buf.copyWithin(headerAt + header, bodyAt, bodyAt + length);
    this.pos = headerAt + header + length;
  }

  private bytes(value: Uint8Array): void {
    if (this.protocol < 3) {
      // Protocol 2 has no bytes opcode: CPython writes _codecs.encode(<latin-1 str>, 'latin1').
      this.global('_codecs', 'encode');
      this.str(latin1(value));
      this.str('latin1');
      this.byte(Op.TUPLE2);
      this.byte(Op.REDUCE);
      return;
    }
    const n = value.length;
    if (n < 0x100) {
      this.byte(Op.SHORT_BINBYTES);
      this.byte(n);
    } else if (n <= 0xffff_ffff) {
      this.byte(Op.BINBYTES);
      this.u32(n);
    } else {
      this.byte(Op.BINBYTES8);
      this.u64(n);
    }
    this.raw(value);
  }

  private global(module: string, name: string): void {
    // GLOBAL works at every protocol; the names here are ASCII.
    this.byte(Op.GLOBAL);
    this.raw(utf8Encoder.encode(`${module}\n${name}\n`));
  }

  private tuple(items: PyTuple): void {
    const n = items.length;
    if (n === 0) {
      this.byte(Op.EMPTY_TUPLE);
      return;
    }
    if (n <= 3) {
      for (const item of items) this.value(item);
      this.byte(Op.TUPLE1 + n - 1);
      return;
    }
    this.byte(Op.MARK);
    for (const item of items) this.value(item);
    this.byte(Op.TUPLE);
  }

  private list(items: readonly unknown[]): void {
    this.byte(Op.EMPTY_LIST);
    this.appends(items);
  }

  private appends(items: readonly unknown[]): void {
    const n = items.length;
    if (n === 1) {
      this.value(items[0]);
      this.byte(Op.APPEND);
      return;
    }
    for (let start = 0; start < n; start += BATCH) {
      this.byte(Op.MARK);
      const end = Math.min(n, start + BATCH);
      for (let i = start; i < end; i++) this.value(items[i]);
      this.byte(Op.APPENDS);
    }
  }

  private dict(entries: Iterator<[unknown, unknown]>, size: number): void {
    this.byte(Op.EMPTY_DICT);
    if (size === 0) return;
    if (size === 1) {
      const first = entries.next().value as [unknown, unknown];
      this.key(first[0]);
      this.value(first[1]);
      this.byte(Op.SETITEM);
      return;
    }
    let inBatch = 0;
    for (let entry = entries.next(); !entry.done; entry = entries.next()) {
      if (inBatch === 0) this.byte(Op.MARK);
      this.key(entry.value[0]);
      this.value(entry.value[1]);
      if (++inBatch === BATCH) {
        this.byte(Op.SETITEMS);
        inBatch = 0;
      }
    }
    if (inBatch > 0) this.byte(Op.SETITEMS);
  }

  private set(items: ReadonlySet<unknown>): void {
    for (const item of items) this.key(item, true);
    if (this.protocol < 4) {
      // No set opcodes before protocol 4: builtins.set([...]).
      this.global('builtins', 'set');
      this.list([...items]);
      this.byte(Op.TUPLE1);
      this.byte(Op.REDUCE);
      return;
    }
    this.byte(Op.EMPTY_SET);
    const all = [...items];
    for (let start = 0; start < all.length; start += BATCH) {
      this.byte(Op.MARK);
      const end = Math.min(all.length, start + BATCH);
      for (let i = start; i < end; i++) this.value(all[i]);
      this.byte(Op.ADDITEMS);
    }
  }

  /** Dict keys and set items must be hashable in Python, or `pickle.loads` fails on the other side. */
  private key(key: unknown, checkOnly = false): void {
    if (!isHashable(key)) throw unencodable(`a ${describe(key)} cannot be a dict key or set item in Python (unhashable)`);
    if (!checkOnly) this.value(key);
  }
}

function isHashable(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (value instanceof PyFloat || value instanceof Uint8Array) return true;
  if (value instanceof PyTuple) return value.every((item) => isHashable(item));
  return false;
}

function latin1(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 4096) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, i + 4096) as unknown as number[]);
  }
  return out;
}

/**
 * UTF-8 with "surrogatepass" (as CPython's pickler encodes str): a lone UTF-16 surrogate becomes
 * its 3-byte form instead of U+FFFD, so it round-trips. Returns the byte count.
 */
function writeUtf8(text: string, out: Uint8Array, at: number): number {
  const n = text.length;
  if (n > 64 && !/[\ud800-\udfff]/.test(text)) {
    return utf8Encoder.encodeInto(text, out.subarray(at)).written;
  }
  let pos = at;
  for (let i = 0; i < n; i++) {
    let code = text.charCodeAt(i);
    if (code < 0x80) {
      out[pos++] = code;
      continue;
    }
    if (code < 0x800) {
      out[pos++] = 0xc0 | (code >> 6);
      out[pos++] = 0x80 | (code & 0x3f);
      continue;
    }
    if (code >= 0xd800 && code < 0xdc00 && i + 1 < n) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low < 0xe000) {
        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        i++;
        out[pos++] = 0xf0 | (code >> 18);
        out[pos++] = 0x80 | ((code >> 12) & 0x3f);
        out[pos++] = 0x80 | ((code >> 6) & 0x3f);
        out[pos++] = 0x80 | (code & 0x3f);
        continue;
      }
    }
    out[pos++] = 0xe0 | (code >> 12);
    out[pos++] = 0x80 | ((code >> 6) & 0x3f);
    out[pos++] = 0x80 | (code & 0x3f);
  }
  return pos - at;
}
