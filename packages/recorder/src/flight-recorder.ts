/**
 * The flight recorder: the last minutes of every topic, in memory, bounded in bytes; `save(seconds)`
 * writes the last N seconds as an MCAP file (in memory, for a download).
 *
 * Invariant: the memory held never exceeds `maxBytes`, and does not creep over a long run. Every value's
 * bytes — JSON text (UTF-8) and binary frames (header and data) alike — live in memory allocated once
 * (`frame-arena.ts`, `maxBytes` less the bookkeeping's share), and the bookkeeping each value costs on the
 * JS heap (`HELD_HEAP_BYTES`, counted) is capped at that share, `maxBytes / 16`. Why both: with
 * frames in buffers of their own and JSON text on the heap, a 10-minute run with an image stream grew
 * webmon's RSS to 130 % of the budget (malloc fragmentation, the garbage collector's lag), and with only
 * frames allocated once, the JSON history growing on the heap beside the (by then wholly touched) frame
 * memory went past the budget in the same way.
 *
 * When a new value finds no room, the topic holding the most bytes gives up its oldest value: a 4 MiB image
 * stream cannot push a 100-byte status topic out of the window, so small topics keep minutes while the big
 * ones keep seconds. When the bookkeeping's share is used up, the topic holding the most values gives up
 * its oldest. The newest value a `latest` topic gave up is kept as its baseline, so a saved file opens
 * with each `latest` topic's value as of the window start (a snapshot), as a page would. Nothing is thinned:
 * every value stays until it is evicted (counted in `evicted`).
 *
 * Copying each value once keeps the producers' buffers from living on (which made the garbage collector
 * run full collections several times a second under an image stream). A save pins the values it chose
 * until its thread has copied them: a value evicted meanwhile keeps its memory until then, and a new value
 * that finds none free is dropped and counted (`droppedWhileSaving`) rather than going over the budget.
 */
import type { FrameInit, TopicInfo } from '@webmon/protocol';
import { RecorderError, RecorderErrorCode } from './errors.js';
import { checkRecordingOptions, rawImageHzOf, type RecordingOptions } from './file-recorder.js';
import { msToNs, nowNs } from './clock.js';
import { RECORD_OVERHEAD_BYTES, type Recorded } from './record.js';
import type { Tappable } from './tap.js';
import { WriterThread, queuedBytesOf } from './writer-thread.js';
import { ARENA_SEGMENT_BYTES, FrameArena } from './frame-arena.js';

export interface FlightRecorderOptions extends RecordingOptions {
  /** Most bytes held in memory; 0 turns the flight recorder off. @default 256 MiB */
  maxBytes?: number;
}

export interface FlightRecorderStats {
  maxBytes: number;
  /** Bytes held now (≤ maxBytes). */
  bytes: number;
  values: number;
  /** Seconds between the oldest value held and now, per topic (the window each topic can still give). */
  windowSeconds: Record<string, number>;
  /** Values evicted to stay within the budget, all topics. */
  evicted: number;
  /** Values too large ever to be held (more than the memory less the slabs' sixteenth, or 1 GiB), never held. */
  tooLarge: number;
  /**
   * Bytes of the values' memory (allocated once: `maxBytes` less the bookkeeping's share, a sixteenth)
   * that have been used at some point: what the values can take of the process's memory.
   */
  memoryTouched: number;
  /** Free pieces of that memory besides its untouched end (0 or 1 when it is not fragmented). */
  memoryFragments: number;
  /** Values dropped because a save still held the memory they needed. */
  droppedWhileSaving: number;
}

export interface FlightRecorder {
  readonly enabled: boolean;
  stats(): FlightRecorderStats;
  /**
   * The last `seconds` of every topic (plus each `latest` topic's value as of the window start) as a
   * complete, indexed MCAP file. Throws `RECORDER_DISABLED` when off, `RECORDER_INVALID_OPTIONS` for a
   * bad `seconds`.
   */
  save(seconds: number): Promise<Uint8Array>;
  close(): void;
}

export const DEFAULT_FLIGHT_RECORDER_BYTES = 256 * 2 ** 20;
/** Most seconds a save may ask for (a day): beyond it the budget, not the window, is the limit anyway. */
export const MAX_SAVE_SECONDS = 86_400;
/** A save hands this many bytes of values to its thread per event-loop turn (each frame is copied once). */
const SAVE_SLICE_BYTES = 8 * 2 ** 20;
/** …and lets the thread run at most this far behind, so a save's copies do not pile up in memory. */
const SAVE_AHEAD_BYTES = 64 * 2 ** 20;

/** What the bookkeeping of held values may take of the budget (the rest is the arena's). */
const OVERHEAD_SHARE = 1 / 16;
/**
 * A topic's slab (small values packed one after another, freed whole when its last value has left): a
 * 256th of the memory, 4–256 KiB (at most a quarter of a tiny memory).
 */
const slabBytesFor = (arenaBytes: number): number => Math.floor(Math.min(arenaBytes / 4, 256 * 1024, Math.max(4096, arenaBytes / 256)) / 8) * 8;
/** Values up to a sixteenth of a slab go into one; bigger ones get a piece of their own. */
const SMALL_PER_SLAB = 16;
/**
 * The top of the memory kept for slabs (a sixteenth, at least 2 slabs): frames cannot take it, so while a
 * save pins every frame the small topics still find room.
 */
const slabReserveFor = (arenaBytes: number, slabBytes: number): number => Math.max(2 * slabBytes, Math.floor(arenaBytes / 16));

/**
 * Why slabs: a topic's values leave oldest first, so a slab empties as a whole. Small values with pieces
 * of their own would leave thousands of small holes between the frames' pieces (and a free list as long).
 */
interface Slab {
  memory: Uint8Array;
  /** Bytes of `memory` handed out (8-byte units). */
  used: number;
  /** Values in it still held (or read by a save). */
  live: number;
  /** A newer slab took over: this one frees when `live` reaches 0. */
  sealed: boolean;
}

/** Where a new value goes: `bytes` to write it into, and where that is (see `Held`). */
interface Room {
  bytes: Uint8Array;
  piece: Uint8Array | undefined;
  slab: Slab | undefined;
  offset: number;
}

/** A value as the flight recorder holds it: its bytes in the arena, the rest on the heap. */
interface Held {
  kind: 'json' | 'frame';
  info: TopicInfo;
  seq: number;
  logTime: bigint;
  publishTime: bigint;
  /** Frames: the header the relay stamped. */
  header: FrameInit | undefined;
  /** Frames: the length of the encoded header at the start of `bytes` (the data follows it). */
  headerLength: number;
  /**
   * Where its bytes are (the JSON text as UTF-8, or the frame's encoded header then its data): a small
   * value `length` bytes at `offset` in its `slab`, a big one a piece of the arena of its own (`piece`).
   * Small values keep numbers, not a view: a typed array costs ~90 bytes of heap, and a minute of small
   * topics is tens of thousands of values (`bytesOf` makes the view when needed).
   */
  piece: Uint8Array | undefined;
  slab: Slab | undefined;
  offset: number;
  length: number;
}

function bytesOf(value: Held): Uint8Array {
  return value.piece ?? (value.slab as Slab).memory.subarray(value.offset, value.offset + value.length);
}

interface TopicHistory {
  info: TopicInfo;
  values: Held[];
  head: number;
  /** Arena bytes plus bookkeeping of the values and baseline. */
  bytes: number;
  /** `latest` topics: the newest value evicted (the value as of the window start). */
  baseline: Held | undefined;
  /** Where the topic's next small value goes. */
  slab: Slab | undefined;
}

export function createFlightRecorder(relay: Tappable, options: FlightRecorderOptions = {}): FlightRecorder {
  checkRecordingOptions(options);
  const maxBytes = options.maxBytes ?? DEFAULT_FLIGHT_RECORDER_BYTES;
  if (!Number.isFinite(maxBytes) || maxBytes < 0) throw new RecorderError(RecorderErrorCode.INVALID_OPTIONS, `maxBytes must be 0 (off) or positive, got ${maxBytes}`);
  return new Flight(relay, maxBytes, options);
}

const utf8 = new TextDecoder();

/** The value as the writer takes it (views of the arena: nothing is copied until the writer does). */
function recordOf(value: Held): Recorded {
  const base = { info: value.info, seq: value.seq, logTime: value.logTime, publishTime: value.publishTime };
  if (value.kind === 'json') {
    const json = utf8.decode(bytesOf(value));
    return { kind: 'json', ...base, json, bytes: json.length + RECORD_OVERHEAD_BYTES };
  }
  const bytes = bytesOf(value);
  const headerBytes = bytes.subarray(0, value.headerLength);
  const data = bytes.subarray(value.headerLength);
  return { kind: 'frame', ...base, header: value.header as FrameInit, headerBytes, data, bytes: bytes.byteLength + RECORD_OVERHEAD_BYTES };
}

/**
 * The heap a held value costs (its object, two bigints, its slot in the topic's array), counted against
 * the budget: 162 bytes measured with `--expose-gc` for 200 000 values on Node 20, rounded up.
 */
const HELD_HEAP_BYTES = 176;

/** What a held value counts against the budget. */
const sizeOf = (value: Held): number => value.length + HELD_HEAP_BYTES;

class Flight implements FlightRecorder {
  readonly enabled: boolean;
  private readonly topics = new Map<string, TopicHistory>();
  private bytes = 0;
  /** Values in the windows (baselines not included). */
  private count = 0;
  /** Values held, baselines included: what the bookkeeping cap counts. */
  private held = 0;
  private readonly maxHeld: number;
  private evicted = 0;
  private tooLarge = 0;
  private readonly untap: () => void;
  private closed = false;
  /** Made at the first value. */
  private arena: FrameArena | undefined;
  private readonly arenaBytes: number;
  private readonly slabBytes: number;
  private readonly slabReserve: number;
  /** The largest value that can ever be held: big values cannot use the slabs' reserve, nor cross a segment. */
  private readonly maxValueBytes: number;
  /** Values a save still reads, with how many saves read each. */
  private readonly pinned = new Map<Held, number>();
  /** Values evicted while pinned: their memory is freed when the last save lets go. */
  private readonly evictedWhilePinned = new Set<Held>();
  private droppedWhileSaving = 0;

  constructor(
    relay: Tappable,
    private readonly maxBytes: number,
    private readonly options: RecordingOptions,
  ) {
    this.enabled = maxBytes > 0;
    const overhead = Math.floor(maxBytes * OVERHEAD_SHARE);
    this.maxHeld = Math.max(1, Math.floor(overhead / HELD_HEAP_BYTES));
    this.arenaBytes = maxBytes - overhead;
    this.slabBytes = slabBytesFor(this.arenaBytes);
    this.slabReserve = slabReserveFor(this.arenaBytes, this.slabBytes);
    this.maxValueBytes = Math.min(this.arenaBytes - this.slabReserve, ARENA_SEGMENT_BYTES);
    this.untap = this.enabled
      ? relay.tap({
          declared: (info) => this.history(info),
          json: (info, seq, time, payloadJson) => {
            const history = this.history(info);
            const length = Buffer.byteLength(payloadJson, 'utf8');
            const room = this.room(history, length);
            if (room === undefined) return;
            const { bytes, piece, slab, offset } = room;
            Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).write(payloadJson, 'utf8');
            this.add(history, { kind: 'json', info, seq, logTime: nowNs(), publishTime: msToNs(time), header: undefined, headerLength: 0, piece, slab, offset, length });
          },
          frame: (info, header, headerBytes, data) => {
            const history = this.history(info);
            const length = headerBytes.byteLength + data.byteLength;
            const room = this.room(history, length);
            if (room === undefined) return;
            const { bytes, piece, slab, offset } = room;
            // Header then data, as one message: the data stays 8-byte aligned (headers are whole 8-byte units).
            bytes.set(headerBytes, 0);
            bytes.set(data, headerBytes.byteLength);
            this.add(history, { kind: 'frame', info, seq: header.seq, logTime: nowNs(), publishTime: msToNs(header.time), header, headerLength: headerBytes.byteLength, piece, slab, offset, length });
          },
        })
      : () => undefined;
  }

  stats(): FlightRecorderStats {
    const now = Date.now();
    const windowSeconds: Record<string, number> = {};
    for (const [name, history] of this.topics) {
      const oldest = history.values[history.head];
      if (oldest !== undefined) windowSeconds[name] = Math.max(0, now - Number(oldest.logTime / 1_000_000n)) / 1000;
    }
    return {
      maxBytes: this.maxBytes,
      bytes: this.bytes,
      values: this.count,
      windowSeconds,
      evicted: this.evicted,
      tooLarge: this.tooLarge,
      memoryTouched: this.arena?.touchedBytes ?? 0,
      memoryFragments: this.arena?.fragments ?? 0,
      droppedWhileSaving: this.droppedWhileSaving,
    };
  }

  async save(seconds: number): Promise<Uint8Array> {
    if (!this.enabled) throw new RecorderError(RecorderErrorCode.DISABLED, 'the flight recorder is off (maxBytes 0)');
    if (this.closed) throw new RecorderError(RecorderErrorCode.CLOSED, 'the flight recorder is closed');
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > MAX_SAVE_SECONDS) {
      throw new RecorderError(RecorderErrorCode.INVALID_OPTIONS, `seconds must be a number in (0, ${MAX_SAVE_SECONDS}], got ${seconds}`);
    }
    return this.write(seconds);
  }

  private async write(seconds: number): Promise<Uint8Array> {
    // Taken synchronously: values arriving while the file is written belong to the next save.
    const from = msToNs(Date.now() - seconds * 1000);
    const chosen: Held[] = [];
    const infos: TopicInfo[] = [];
    for (const history of this.topics.values()) {
      infos.push(history.info);
      let snapshot = history.info.mode === 'latest' ? history.baseline : undefined;
      for (let index = history.head; index < history.values.length; index++) {
        const value = history.values[index] as Held;
        if (value.logTime >= from) chosen.push(value);
        else if (history.info.mode === 'latest') snapshot = value;
      }
      if (snapshot !== undefined) chosen.push(snapshot);
    }
    for (const value of chosen) this.pin(value);
    chosen.sort((a, b) => (a.logTime < b.logTime ? -1 : a.logTime > b.logTime ? 1 : 0));
    // Encoding and compression happen in a writer thread of its own: a save (hundreds of MiB) does not
    // stall the pages. The values go over in slices, one event-loop turn each (a frame is copied once).
    let handed = 0;
    const letGo = (upTo: number): void => {
      for (; handed < upTo; handed++) this.unpin(chosen[handed] as Held);
    };
    let writer: WriterThread | undefined;
    try {
      writer = await WriterThread.start(
        {
          target: 'memory',
          compression: this.options.compression ?? 'zstd',
          compressionLevel: this.options.compressionLevel ?? 1,
          chunkSize: this.options.chunkSize ?? 2 ** 20,
          rawImageHz: rawImageHzOf(this.options),
          maxCpuShare: 1,
        },
        undefined,
        this.options.schemas,
      );
      for (const info of infos) writer.declare(info);
      let slice = 0;
      for (let index = 0; index < chosen.length; index++) {
        const record = recordOf(chosen[index] as Held);
        writer.add(record);
        slice += queuedBytesOf(record);
        if (slice < SAVE_SLICE_BYTES) continue;
        slice = 0;
        // The thread's side copies what was added on the next turn (`WriterThread.flush`), before this;
        // from then on the save no longer reads those values.
        await new Promise((resolve) => setImmediate(resolve));
        letGo(index + 1);
        await writer.drain(SAVE_AHEAD_BYTES);
      }
      const file = await writer.end(); // copies the rest at once
      return file ?? new Uint8Array(0);
    } finally {
      letGo(chosen.length);
      await writer?.terminate();
    }
  }

  close(): void {
    this.closed = true;
    this.untap();
    this.topics.clear();
    this.arena = undefined;
    this.pinned.clear();
    this.evictedWhilePinned.clear();
    this.bytes = 0;
    this.count = 0;
    this.held = 0;
  }

  private history(info: TopicInfo): TopicHistory {
    let history = this.topics.get(info.name);
    if (history === undefined || history.info !== info) {
      // A topic declared again (after a retirement) may differ: its history starts over.
      if (history !== undefined) this.forget(history);
      history = { info, values: [], head: 0, bytes: 0, baseline: undefined, slab: undefined };
      this.topics.set(info.name, history);
    }
    return history;
  }

  /**
   * A piece of the arena for a new value of `length` bytes, after evicting what must go: the bookkeeping's
   * share first (the topic with the most values gives one up), then memory (the topic with the most bytes).
   * `undefined` (counted) when the value could never fit, or when values a save still reads hold the rest.
   */
  private room(history: TopicHistory, length: number): Room | undefined {
    if (length > this.maxValueBytes) {
      this.tooLarge += 1;
      return undefined;
    }
    while (this.held >= this.maxHeld && this.evictFrom(this.mostValues())) {
      // evicted one
    }
    if (this.held >= this.maxHeld) {
      this.droppedWhileSaving += 1;
      return undefined;
    }
    const arena = (this.arena ??= new FrameArena(this.arenaBytes, ARENA_SEGMENT_BYTES, this.slabReserve));
    for (;;) {
      const room = this.take(arena, history, length);
      if (room !== undefined) return room;
      // A big value needs a piece that a value in a slab cannot give back.
      if (!this.evictFrom(this.mostBytes(this.isBig(length)))) {
        this.droppedWhileSaving += 1;
        return undefined;
      }
    }
  }

  /** Whether a value of `length` bytes gets a piece of its own (else it goes into its topic's slab). */
  private isBig(length: number): boolean {
    return length > this.slabBytes / SMALL_PER_SLAB;
  }

  /** A piece for a value: in the topic's slab when small (a new slab, from the arena's top, when full). */
  private take(arena: FrameArena, history: TopicHistory, length: number): Room | undefined {
    if (this.isBig(length)) {
      const piece = arena.allocate(length);
      return piece === undefined ? undefined : { bytes: piece, piece, slab: undefined, offset: 0 };
    }
    const need = Math.ceil(Math.max(1, length) / 8) * 8;
    let slab = history.slab;
    if (slab === undefined || slab.used + need > slab.memory.byteLength) {
      const memory = arena.allocate(this.slabBytes, true);
      if (memory === undefined) return undefined;
      if (slab !== undefined) {
        slab.sealed = true;
        if (slab.live === 0) arena.free(slab.memory);
      }
      slab = { memory, used: 0, live: 0, sealed: false };
      history.slab = slab;
    }
    const offset = slab.used;
    slab.used += need;
    slab.live += 1;
    return { bytes: slab.memory.subarray(offset, offset + length), piece: undefined, slab, offset };
  }

  private add(history: TopicHistory, value: Held): void {
    history.values.push(value);
    const size = sizeOf(value);
    history.bytes += size;
    this.bytes += size;
    this.count += 1;
    this.held += 1;
  }

  /**
   * The topic with the most bytes whose next eviction makes progress without touching what a save reads;
   * with `big`, only one whose next eviction gives back a piece of its own (not a slab's).
   */
  private mostBytes(big: boolean): TopicHistory | undefined {
    let most: TopicHistory | undefined;
    for (const history of this.topics.values()) if ((most === undefined || history.bytes > most.bytes) && this.canEvict(history, big)) most = history;
    return most;
  }

  /** The topic holding the most values (baseline included) that can give one up. */
  private mostValues(): TopicHistory | undefined {
    let most: TopicHistory | undefined;
    let mostHeld = 0;
    for (const history of this.topics.values()) {
      const held = history.values.length - history.head + (history.baseline === undefined ? 0 : 1);
      if (held > mostHeld && this.canEvict(history)) {
        most = history;
        mostHeld = held;
      }
    }
    return most;
  }

  /**
   * Whether evicting from `history` frees something no save reads (or moves a value to the baseline);
   * with `big`, something not in a slab.
   */
  private canEvict(history: TopicHistory, big = false): boolean {
    const oldest = history.values[history.head];
    const next = history.info.mode === 'latest' ? history.baseline : oldest;
    // A latest topic's first eviction only moves a value to the baseline.
    if (next === undefined) return oldest !== undefined && !(big && oldest.slab !== undefined);
    return !this.pinned.has(next) && !(big && next.slab !== undefined);
  }

  /**
   * The topic's oldest value leaves the window (a `latest` topic's becomes its baseline, and the baseline
   * before it goes; one with only a baseline loses it). False when there was nothing to evict.
   */
  private evictFrom(history: TopicHistory | undefined): boolean {
    if (history === undefined) return false;
    const value = history.values[history.head];
    if (value === undefined) {
      if (history.baseline === undefined) return false;
      this.drop(history, history.baseline);
      history.baseline = undefined;
      return true;
    }
    history.values[history.head] = undefined as unknown as Held;
    history.head += 1;
    this.count -= 1;
    this.evicted += 1;
    if (history.info.mode === 'latest') {
      if (history.baseline !== undefined) this.drop(history, history.baseline);
      history.baseline = value; // stays counted: it moves from the window to the baseline
    } else {
      this.drop(history, value);
    }
    if (history.head > 1024 && history.head * 2 > history.values.length) {
      history.values = history.values.slice(history.head);
      history.head = 0;
    }
    return true;
  }

  /** A value that left the memory: its piece of the arena serves the next values (once no save reads it). */
  private drop(history: TopicHistory, value: Held): void {
    const size = sizeOf(value);
    history.bytes -= size;
    this.bytes -= size;
    this.held -= 1;
    this.release(value);
  }

  /** The value's memory goes back (its slab's, once the slab's last value has gone), unless a save reads it. */
  private release(value: Held): void {
    if (this.pinned.has(value)) {
      this.evictedWhilePinned.add(value);
      return;
    }
    const arena = this.arena;
    if (arena === undefined) return;
    const slab = value.slab;
    if (slab === undefined) {
      arena.free(value.piece as Uint8Array);
      return;
    }
    slab.live -= 1;
    if (slab.live > 0) return;
    if (slab.sealed) arena.free(slab.memory);
    else slab.used = 0; // still the topic's slab: it starts over
  }

  private pin(value: Held): void {
    this.pinned.set(value, (this.pinned.get(value) ?? 0) + 1);
  }

  private unpin(value: Held): void {
    const count = (this.pinned.get(value) ?? 1) - 1;
    if (count > 0) {
      this.pinned.set(value, count);
      return;
    }
    this.pinned.delete(value);
    if (this.evictedWhilePinned.delete(value) && !this.closed) this.release(value);
  }

  private forget(history: TopicHistory): void {
    for (let index = history.head; index < history.values.length; index++) this.release(history.values[index] as Held);
    if (history.baseline !== undefined) this.release(history.baseline);
    if (history.slab !== undefined) {
      history.slab.sealed = true;
      if (history.slab.live === 0) this.arena?.free(history.slab.memory);
    }
    this.bytes -= history.bytes;
    this.count -= history.values.length - history.head;
    this.held -= history.values.length - history.head + (history.baseline === undefined ? 0 : 1);
    this.topics.delete(history.info.name);
  }
}
