/**
 * `multiprocessing.shared_memory.ShareableList`, read without Python (WIRE §4.3, §4.4).
 *
 * Two header layouts exist: CPython 3.9+ stores N+1 cumulative slot offsets starting with 0,
 * CPython 3.8 stored N per-slot sizes (each at least 8). The word at byte 8 tells them apart
 * (0 → 3.9+, ≥ 8 → 3.8), and the whole layout is then validated (monotonic offsets, every
 * slot a multiple of 8, known formats and codes, fits the block) before anything is decoded.
 *
 * The header never changes after creation, so it is read once. Formats, codes and values do
 * change (Python writes format, then code, then value, with no lock), so every value read is a
 * double read: re-read until two consecutive reads agree byte for byte, bounded, else SHM_TORN_READ.
 */
import { ShmReaderError, ShmReaderErrorCode } from '../errors.js';
import { toByteSource, type ShmByteSource } from './source.js';

/** A decoded ShareableList item: int → number (bigint beyond 2^53), float, bool, str, bytes, None → null. */
export type ShareableValue = number | bigint | boolean | string | Uint8Array | null;

export type ShareableListVariant = '3.8' | '3.9+';

export interface ShareableListLayout {
  /** Which CPython header layout the block uses. */
  readonly variant: ShareableListVariant;
  /** Number of items. */
  readonly length: number;
  /** Absolute offset of the data area. */
  readonly dataStart: number;
  /** Slot start offsets relative to the data area, length+1 entries (last = data size). */
  readonly offsets: readonly number[];
  /** Absolute offset of the 8-byte per-item formats. */
  readonly formatsAt: number;
  /** Absolute offset of the 1-byte per-item back-transform codes. */
  readonly codesAt: number;
  /** Bytes used by the list; the block may be larger (macOS page rounding). */
  readonly total: number;
}

export interface ShareableSlot {
  readonly index: number;
  /** The struct format as stored now (`q`, `d`, `xxxxxxx?`, `xxxxxx?x`, `<k>s`). */
  readonly format: string;
  /** 0 as-is, 1 str, 2 bytes, 3 None. */
  readonly code: number;
  /** Absolute offset of the slot. */
  readonly offset: number;
  /** Slot capacity in bytes. */
  readonly capacity: number;
}

export interface ShareableListOptions {
  /** Re-reads allowed per value when reads disagree or show a half-written slot. Default 1000. */
  maxRetries?: number;
  /**
   * Time budget per value for those re-reads, in ms. After a few immediate re-reads the reader
   * backs off (blocking sleeps from 20 µs up to 1 ms) so a writer that was descheduled in the middle
   * of a write can finish it. Default 50.
   */
  maxWaitMs?: number;
  /**
   * Application-level check of a decoded value (e.g. "parses as JSON"). A value that fails it is
   * treated like a torn read and re-read. ShareableList has no lock or sequence number, so this is
   * the only way to reject a write that was half done while its writer was descheduled: such a
   * state can read back identically many times in a row (see docs/shm.md).
   */
  validate?: (value: ShareableValue, index: number) => boolean;
}

const BOOL_FORMAT = 'xxxxxxx?';
const NONE_FORMAT = 'xxxxxx?x';
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const ascii = new TextDecoder('latin1');

function layoutError(message: string): ShmReaderError {
  return new ShmReaderError(ShmReaderErrorCode.SHM_LAYOUT, `not a ShareableList: ${message}`);
}

function readInt64(source: ShmByteSource, position: number, count: number): bigint[] {
  const bytes = new Uint8Array(8 * count);
  source.readBytes(bytes, position);
  const view = new DataView(bytes.buffer);
  const out: bigint[] = [];
  for (let i = 0; i < count; i++) out.push(view.getBigInt64(8 * i, LITTLE_ENDIAN));
  return out;
}

/** Reads and validates the (immutable) header of a ShareableList. Throws SHM_LAYOUT. */
export function parseShareableListLayout(source: ShmByteSource | Uint8Array): ShareableListLayout {
  const src = toByteSource(source);
  const size = src.size;
  if (size < 8) throw layoutError(`block of ${size} bytes has no header`);
  const n64 = readInt64(src, 0, 1)[0] ?? 0n;
  // 8 (N) + 8 per slot at least once + 8 format + 1 code per item: any larger N cannot fit.
  if (n64 < 0n || n64 > BigInt(Math.floor(size / 25))) throw layoutError(`item count ${n64} does not fit a block of ${size} bytes`);
  const n = Number(n64);
  let variant: ShareableListVariant = '3.9+';
  let offsets: number[];
  let dataStart: number;
  if (n === 0) {
    // Both versions write just N (and 3.9+ a single 0 offset); both mean an empty list.
    offsets = [0];
    dataStart = size >= 16 ? 16 : 8;
  } else {
    const first = readInt64(src, 8, 1)[0] ?? 0n;
    if (first === 0n) {
      const raw = readInt64(src, 8, n + 1);
      offsets = raw.map(Number);
      dataStart = 8 * (n + 2);
    } else {
      variant = '3.8';
      const sizes = readInt64(src, 8, n);
      offsets = [0];
      for (const slotSize of sizes) {
        if (slotSize < 8n || slotSize > BigInt(size)) throw layoutError(`3.8 slot size ${slotSize} out of range`);
        offsets.push((offsets[offsets.length - 1] ?? 0) + Number(slotSize));
      }
      dataStart = 8 * (n + 1);
    }
  }
  for (let i = 0; i < n; i++) {
    const capacity = (offsets[i + 1] ?? 0) - (offsets[i] ?? 0);
    if (!Number.isSafeInteger(capacity) || capacity < 8 || capacity % 8 !== 0) {
      throw layoutError(`slot ${i} capacity ${capacity} is not a positive multiple of 8`);
    }
  }
  const dataSize = offsets[n] ?? 0;
  const formatsAt = dataStart + dataSize;
  const codesAt = formatsAt + 8 * n;
  const total = codesAt + n;
  if (!Number.isSafeInteger(total) || total > size) throw layoutError(`layout needs ${total} bytes, block has ${size}`);
  const layout: ShareableListLayout = { variant, length: n, dataStart, offsets, formatsAt, codesAt, total };
  // Validate what is there now: a random block almost never has valid formats and codes everywhere.
  if (n > 0) {
    const meta = new Uint8Array(9 * n);
    src.readBytes(meta, formatsAt);
    for (let i = 0; i < n; i++) {
      const format = formatAt(meta, i);
      const code = meta[8 * n + i] ?? 255;
      if (!isKnownFormat(format) || code > 3) throw layoutError(`slot ${i} has format ${JSON.stringify(format)} and code ${code}`);
    }
  }
  return layout;
}

function formatAt(meta: Uint8Array, index: number): string {
  const raw = meta.subarray(8 * index, 8 * index + 8);
  let end = raw.length;
  while (end > 0 && raw[end - 1] === 0) end--;
  return ascii.decode(raw.subarray(0, end));
}

function isKnownFormat(format: string): boolean {
  return format === 'q' || format === 'd' || format === BOOL_FORMAT || format === NONE_FORMAT || /^[1-9]\d*s$/.test(format);
}

/**
 * Thrown from decodeSlot for states that are not a valid slot. `transient` marks the states CPython
 * passes through in the middle of `__setitem__` (struct.pack_into zero-fills before copying, and the
 * format is written before the code): those are retried as torn reads, anything else is SHM_LAYOUT.
 */
class UnstableSlot extends Error {
  constructor(
    message: string,
    readonly transient: boolean,
  ) {
    super(message);
  }
}

/**
 * Decodes one slot from its raw bytes: `raw` = 8-byte format ‖ 1-byte code ‖ capacity bytes of value.
 * Mirrors CPython's `__getitem__`: trailing NULs of str/bytes are stripped (that is CPython's own
 * data loss, WIRE §4.3).
 */
function decodeSlot(raw: Uint8Array, capacity: number): ShareableValue {
  let end = 8;
  while (end > 0 && raw[end - 1] === 0) end--;
  const format = ascii.decode(raw.subarray(0, end));
  const code = raw[8] ?? 255;
  const value = raw.subarray(9, 9 + capacity);
  if (code === 3) return null;
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  // A fixed-size format with a str/bytes code only exists between Python's two writes (format,
  // then code) while a slot is being retyped; CPython itself would fail to decode it.
  if ((format === 'q' || format === 'd' || format === BOOL_FORMAT) && code !== 0) {
    throw new UnstableSlot(`format ${format} with code ${code}`, true);
  }
  switch (format) {
    case 'q': {
      const big = view.getBigInt64(0, LITTLE_ENDIAN);
      return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    }
    case 'd':
      return view.getFloat64(0, LITTLE_ENDIAN);
    case BOOL_FORMAT:
      return value[7] !== 0;
    case NONE_FORMAT:
      return null;
    default:
      break;
  }
  const match = /^([1-9]\d*)s$/.exec(format);
  if (!match || code > 2) throw new UnstableSlot(`format ${JSON.stringify(format)} with code ${code}`, format === '');
  // min(k, capacity): a future CPython may store the real byte length in k (gh-145261).
  let length = Math.min(Number(match[1]), capacity);
  while (length > 0 && value[length - 1] === 0) length--;
  const bytes = value.slice(0, length);
  if (code === 2) return bytes;
  if (code === 0) throw new UnstableSlot(`string format ${format} with as-is code`, true);
  try {
    return utf8.decode(bytes);
  } catch {
    // CPython sizes str slots in characters, not bytes, so a multibyte string can be cut inside
    // its last character (WIRE §4.3; Python raises UnicodeDecodeError). Drop only that partial tail.
    const tail = incompleteUtf8Tail(bytes);
    if (tail > 0) {
      try {
        return utf8.decode(bytes.subarray(0, bytes.length - tail));
      } catch {
        // invalid before the tail as well: fall through
      }
    }
    throw new UnstableSlot('invalid UTF-8 in a str slot', false);
  }
}

/** Length (1–3) of an incomplete UTF-8 sequence at the end of `bytes`, else 0. */
function incompleteUtf8Tail(bytes: Uint8Array): number {
  for (let back = 1; back <= 3 && back <= bytes.length; back++) {
    const byte = bytes[bytes.length - back] ?? 0;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? back : 0;
  }
  return 0;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Blocking sleep: get() is synchronous, and the point is to give a descheduled writer the CPU. */
function sleepMs(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** Bytes of format + code read in one pread when the formats/codes tables are this small. */
const META_SINGLE_READ = 4096;

/** Why a read attempt was not accepted, for the final error. */
type Rejection = { kind: 'changing' } | { kind: 'invalid'; transient: boolean; message: string } | { kind: 'rejected' };

/**
 * Reads a ShareableList from a live block or from a `Uint8Array` of one. Values are read on
 * demand with positioned reads of just that slot, double-checked against torn writes.
 */
export class ShareableListReader {
  readonly layout: ShareableListLayout;
  private readonly source: ShmByteSource;
  private readonly maxRetries: number;
  private readonly maxWaitMs: number;
  private readonly validate: ((value: ShareableValue, index: number) => boolean) | undefined;
  private buffers: Uint8Array[] = [];
  /** Re-reads done because reads disagreed, showed a half-written slot, or failed `validate`. */
  retries = 0;

  constructor(source: ShmByteSource | Uint8Array, options: ShareableListOptions = {}) {
    this.source = toByteSource(source);
    this.source.assertReadable();
    this.maxRetries = Math.max(0, options.maxRetries ?? 1000);
    this.maxWaitMs = Math.max(0, options.maxWaitMs ?? 50);
    this.validate = options.validate;
    this.layout = parseShareableListLayout(this.source);
  }

  get length(): number {
    return this.layout.length;
  }

  /** Where slot `index` lives and what format/code it has right now (not torn-checked). */
  slot(index: number): ShareableSlot {
    const { offset, capacity } = this.slotPlace(index);
    const meta = new Uint8Array(9);
    this.readMeta(meta, index);
    return { index, format: formatAt(meta, 0), code: meta[8] ?? 255, offset, capacity };
  }

  /**
   * Item `index` (negative counts from the end, like Python). Each attempt reads format+code,
   * the value twice back to back, then format+code again, and accepts only when both pairs agree
   * and the slot decodes (and passes `validate`). SHM_TORN_READ when the retry budget runs out.
   */
  get(index: number): ShareableValue {
    this.source.assertReadable();
    const i = index < 0 ? index + this.layout.length : index;
    const { offset, capacity } = this.slotPlace(i);
    const [metaA, metaB, valueA, valueB, slot] = this.scratch(capacity);
    return this.retrying(`ShareableList slot ${i}`, () => {
      this.readMeta(metaA, i);
      this.source.readBytes(valueA, offset);
      this.source.readBytes(valueB, offset);
      this.readMeta(metaB, i);
      if (!sameBytes(metaA, metaB) || !sameBytes(valueA, valueB)) return { kind: 'changing' };
      slot.set(metaA, 0);
      slot.set(valueA, 9);
      return this.accept(decodeSlot(slot, capacity), i);
    });
  }

  /**
   * All items from one consistent snapshot: the data area, formats and codes are contiguous, so
   * they are read as one range, twice, until two reads agree.
   */
  toArray(): ShareableValue[] {
    this.source.assertReadable();
    const { dataStart, total, length } = this.layout;
    const first = new Uint8Array(total - dataStart);
    const second = new Uint8Array(total - dataStart);
    return this.retrying('ShareableList snapshot', (): { value: ShareableValue[] } | Rejection => {
      this.source.readBytes(first, dataStart);
      this.source.readBytes(second, dataStart);
      if (!sameBytes(first, second)) return { kind: 'changing' };
      const values = this.decodeRegion(first, length);
      for (let k = 0; k < values.length; k++) {
        const verdict = this.accept(values[k] as ShareableValue, k);
        if (!('value' in verdict)) return verdict;
      }
      return { value: values };
    });
  }

  private accept(value: ShareableValue, index: number): { value: ShareableValue } | Rejection {
    if (this.validate && !this.validate(value, index)) return { kind: 'rejected' };
    return { value };
  }

  /** The bounded retry loop shared by get() and toArray(). */
  private retrying<T>(what: string, attempt: () => { value: T } | Rejection): T {
    const started = performance.now();
    let last: Rejection = { kind: 'changing' };
    for (let round = 0; ; round++) {
      try {
        const outcome = attempt();
        if ('value' in outcome) return outcome.value;
        last = outcome;
      } catch (error) {
        if (!(error instanceof UnstableSlot)) throw error;
        last = { kind: 'invalid', transient: error.transient, message: error.message };
      }
      const elapsed = performance.now() - started;
      if (round >= this.maxRetries || elapsed >= this.maxWaitMs) break;
      this.retries++;
      // A few immediate re-reads catch a writer that is mid-copy; after that the writer is
      // probably descheduled mid-write, and only giving up the CPU lets it finish.
      if (round >= 4) sleepMs(Math.min(1, 0.02 * 2 ** (round - 4), this.maxWaitMs - elapsed));
    }
    if (last.kind === 'invalid' && !last.transient) {
      throw new ShmReaderError(ShmReaderErrorCode.SHM_LAYOUT, `${what}: ${last.message}`);
    }
    const why =
      last.kind === 'changing'
        ? 'reads kept changing'
        : last.kind === 'rejected'
          ? 'the value kept failing validate()'
          : `it kept showing a half-written slot (${last.message})`;
    throw new ShmReaderError(
      ShmReaderErrorCode.SHM_TORN_READ,
      `${what}: no consistent read within ${this.maxRetries} retries / ${this.maxWaitMs} ms: ${why}`,
    );
  }

  private scratch(capacity: number): [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array] {
    if ((this.buffers[2]?.length ?? -1) < capacity) {
      this.buffers = [new Uint8Array(9), new Uint8Array(9), new Uint8Array(capacity), new Uint8Array(capacity), new Uint8Array(9 + capacity)];
    }
    const [metaA, metaB, valueA, valueB, slot] = this.buffers as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    return [metaA, metaB, valueA.subarray(0, capacity), valueB.subarray(0, capacity), slot.subarray(0, 9 + capacity)];
  }

  private decodeRegion(region: Uint8Array, length: number): ShareableValue[] {
    const { dataStart, formatsAt, codesAt, offsets } = this.layout;
    const values: ShareableValue[] = [];
    for (let i = 0; i < length; i++) {
      const start = offsets[i] ?? 0;
      const capacity = (offsets[i + 1] ?? 0) - start;
      const raw = new Uint8Array(9 + capacity);
      raw.set(region.subarray(formatsAt - dataStart + 8 * i, formatsAt - dataStart + 8 * i + 8), 0);
      raw[8] = region[codesAt - dataStart + i] ?? 255;
      raw.set(region.subarray(start, start + capacity), 9);
      values.push(decodeSlot(raw, capacity));
    }
    return values;
  }

  private slotPlace(index: number): { offset: number; capacity: number } {
    if (!Number.isInteger(index) || index < 0 || index >= this.layout.length) {
      throw new ShmReaderError(ShmReaderErrorCode.SHM_OUT_OF_RANGE, `ShareableList index ${index} out of range (length ${this.layout.length})`);
    }
    const start = this.layout.offsets[index] ?? 0;
    return { offset: this.layout.dataStart + start, capacity: (this.layout.offsets[index + 1] ?? 0) - start };
  }

  /** format (8 bytes) ‖ code (1 byte) of slot `index`; one pread when the tables are small. */
  private readMeta(target: Uint8Array, index: number): void {
    const { formatsAt, codesAt } = this.layout;
    const from = formatsAt + 8 * index;
    const span = codesAt + index + 1 - from;
    if (span <= META_SINGLE_READ) {
      const window = new Uint8Array(span);
      this.source.readBytes(window, from);
      target.set(window.subarray(0, 8), 0);
      target[8] = window[span - 1] ?? 255;
      return;
    }
    this.source.readBytes(target.subarray(0, 8), from);
    this.source.readBytes(target.subarray(8, 9), codesAt + index);
  }
}

/** Opens a ShareableList on a live block or a `Uint8Array`. */
export function readShareableList(source: ShmByteSource | Uint8Array, options?: ShareableListOptions): ShareableListReader {
  return new ShareableListReader(source, options);
}

/** Decodes every item of a dumped ShareableList block (both layouts). */
export function decodeShareableList(bytes: Uint8Array): ShareableValue[] {
  return new ShareableListReader(bytes).toArray();
}
