/**
 * The flight recorder: the last minutes of every topic, in memory, bounded in bytes; `save(seconds)`
 * writes the last N seconds as an MCAP file (in memory, for a download).
 *
 * Invariant: the bytes held (values + per-value bookkeeping, `RECORD_OVERHEAD_BYTES` each) never exceed
 * `maxBytes`. When a new value would pass it, the topic holding the most bytes gives up its oldest value:
 * a 4 MiB image stream cannot push a 100-byte status topic out of the window, so small topics keep minutes
 * while the big ones keep seconds. The newest value a `latest` topic gave up is kept as its baseline, so a
 * saved file opens with each `latest` topic's value as of the window start (a snapshot), as a page would.
 *
 * Frames are copied once into memory of the recorder's own, allocated once for the whole budget
 * (`frame-arena.ts`): the producers' buffers are not kept alive (which made the garbage collector run full
 * collections several times a second under an image stream), and the process holds no more for frames
 * than the budget, however long it runs. Every value is kept — nothing is thinned — until the budget
 * evicts it (counted in `evicted`). A save pins the frames it chose until its thread has copied them: a
 * frame evicted meanwhile keeps its place in the arena until then, and a new frame that finds no room
 * left is dropped and counted (`droppedWhileSaving`) rather than going over the budget.
 */
import type { TopicInfo } from '@webmon/protocol';
import { RecorderError, RecorderErrorCode } from './errors.js';
import { checkRecordingOptions, rawImageHzOf, type RecordingOptions } from './file-recorder.js';
import { msToNs } from './clock.js';
import { RECORD_OVERHEAD_BYTES, frameRecord, jsonRecord, type Recorded } from './record.js';
import type { Tappable } from './tap.js';
import { WriterThread, queuedBytesOf } from './writer-thread.js';
import { FrameArena } from './frame-arena.js';

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
  /** Values larger than the whole budget, never held. */
  tooLarge: number;
  /**
   * Bytes of the frame memory (allocated once, `maxBytes`) that have been used at some point: the
   * most the flight recorder's frames can hold in the process.
   */
  frameMemoryTouched: number;
  /** Free pieces of the frame memory (1 when all free memory is one piece). */
  frameMemoryFragments: number;
  /** Frames dropped because a save still held the memory they needed. */
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

interface TopicHistory {
  info: TopicInfo;
  values: Recorded[];
  head: number;
  bytes: number;
  /** `latest` topics: the newest value evicted (the value as of the window start). */
  baseline: Recorded | undefined;
}

export function createFlightRecorder(relay: Tappable, options: FlightRecorderOptions = {}): FlightRecorder {
  checkRecordingOptions(options);
  const maxBytes = options.maxBytes ?? DEFAULT_FLIGHT_RECORDER_BYTES;
  if (!Number.isFinite(maxBytes) || maxBytes < 0) throw new RecorderError(RecorderErrorCode.INVALID_OPTIONS, `maxBytes must be 0 (off) or positive, got ${maxBytes}`);
  return new Flight(relay, maxBytes, options);
}

class Flight implements FlightRecorder {
  readonly enabled: boolean;
  private readonly topics = new Map<string, TopicHistory>();
  private bytes = 0;
  private count = 0;
  private evicted = 0;
  private tooLarge = 0;
  private readonly untap: () => void;
  private closed = false;
  /** Made at the first frame (a flight recorder of JSON topics only never touches it). */
  private arena: FrameArena | undefined;
  /** Frames a save still reads, with how many saves read each. */
  private readonly pinned = new Map<Uint8Array, number>();
  /** Frames evicted while pinned: their memory is freed when the last save lets go. */
  private readonly evictedWhilePinned = new Set<Uint8Array>();
  private droppedWhileSaving = 0;

  constructor(
    relay: Tappable,
    private readonly maxBytes: number,
    private readonly options: RecordingOptions,
  ) {
    this.enabled = maxBytes > 0;
    this.untap = this.enabled
      ? relay.tap({
          declared: (info) => this.history(info),
          json: (info, seq, time, payloadJson) => this.add(jsonRecord(info, seq, time, payloadJson)),
          frame: (info, header, headerBytes, data) => {
            // Room first, so the frame that leaves the window lends its memory to the one that comes in.
            if (!this.makeRoom(headerBytes.length + data.byteLength + RECORD_OVERHEAD_BYTES)) return;
            const copy = this.place(data.byteLength);
            if (copy === undefined) {
              this.droppedWhileSaving += 1;
              return;
            }
            copy.set(data);
            this.add(frameRecord(info, header, headerBytes, copy));
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
      frameMemoryTouched: this.arena?.touchedBytes ?? 0,
      frameMemoryFragments: this.arena?.fragments ?? 0,
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
    const chosen: Recorded[] = [];
    const infos: TopicInfo[] = [];
    for (const history of this.topics.values()) {
      infos.push(history.info);
      let snapshot = history.info.mode === 'latest' ? history.baseline : undefined;
      for (let index = history.head; index < history.values.length; index++) {
        const value = history.values[index] as Recorded;
        if (value.logTime >= from) chosen.push(value);
        else if (history.info.mode === 'latest') snapshot = value;
      }
      if (snapshot !== undefined) chosen.push(snapshot);
    }
    for (const value of chosen) if (value.kind === 'frame') this.pin(value.data);
    chosen.sort((a, b) => (a.logTime < b.logTime ? -1 : a.logTime > b.logTime ? 1 : 0));
    // Encoding and compression happen in a writer thread of its own: a save (hundreds of MiB) does not
    // stall the pages. The values go over in slices, one event-loop turn each (a frame is copied once).
    const writer = await WriterThread.start(
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
    // Values up to here have been handed over; their frames are let go once the thread has them.
    let handed = 0;
    const letGo = (upTo: number): void => {
      for (; handed < upTo; handed++) {
        const value = chosen[handed] as Recorded;
        if (value.kind === 'frame') this.unpin(value.data);
      }
    };
    try {
      for (const info of infos) writer.declare(info);
      let slice = 0;
      for (let index = 0; index < chosen.length; index++) {
        const value = chosen[index] as Recorded;
        writer.add(value);
        slice += queuedBytesOf(value);
        if (slice < SAVE_SLICE_BYTES) continue;
        slice = 0;
        // The thread's side copies what was added on the next turn (`WriterThread.flush`), before this.
        await new Promise((resolve) => setImmediate(resolve));
        letGo(index + 1);
        await writer.drain(SAVE_AHEAD_BYTES);
      }
      const file = await writer.end(); // copies the rest at once
      letGo(chosen.length);
      return file ?? new Uint8Array(0);
    } finally {
      letGo(chosen.length);
      await writer.terminate();
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
  }

  private history(info: TopicInfo): TopicHistory {
    let history = this.topics.get(info.name);
    if (history === undefined || history.info !== info) {
      // A topic declared again (after a retirement) may differ: its history starts over.
      if (history !== undefined) this.forget(history);
      history = { info, values: [], head: 0, bytes: 0, baseline: undefined };
      this.topics.set(info.name, history);
    }
    return history;
  }

  /** Evicts until `bytes` more fit; false (counted) when they never would. */
  private makeRoom(bytes: number): boolean {
    if (bytes > this.maxBytes) {
      this.tooLarge += 1;
      return false;
    }
    while (this.bytes + bytes > this.maxBytes && this.bytes > 0) this.evictFromLargest();
    return true;
  }

  private add(value: Recorded): void {
    if (value.kind === 'json' && !this.makeRoom(value.bytes)) return;
    const history = this.history(value.info);
    history.values.push(value);
    history.bytes += value.bytes;
    this.bytes += value.bytes;
    this.count += 1;
  }

  /**
   * Memory for a frame of `length` bytes, evicting more while the free memory is in pieces too small;
   * `undefined` when frames a save still reads hold what is left.
   */
  private place(length: number): Uint8Array | undefined {
    this.arena ??= new FrameArena(this.maxBytes);
    for (;;) {
      const copy = this.arena.allocate(length);
      if (copy !== undefined) return copy;
      // The binary topic holding the most whose next eviction can free memory (a frame no save reads).
      let victim: TopicHistory | undefined;
      for (const history of this.topics.values()) {
        if (history.info.binary !== true || (victim !== undefined && history.bytes <= victim.bytes)) continue;
        if (this.canFree(history)) victim = history;
      }
      if (victim === undefined) return undefined;
      this.evictOldest(victim);
    }
  }

  /** Whether evicting from `history` makes progress without touching a frame a save reads. */
  private canFree(history: TopicHistory): boolean {
    const next = history.info.mode === 'latest' ? history.baseline : history.values[history.head];
    if (next === undefined) return history.values[history.head] !== undefined; // a latest topic's first eviction only moves a value to the baseline
    return next.kind !== 'frame' || !this.pinned.has(next.data);
  }

  /** A value that left the memory: its frame's memory serves the next frames (once no save reads it). */
  private discard(value: Recorded): void {
    if (value.kind !== 'frame') return;
    if (this.pinned.has(value.data)) this.evictedWhilePinned.add(value.data);
    else this.arena?.free(value.data);
  }

  private pin(data: Uint8Array): void {
    this.pinned.set(data, (this.pinned.get(data) ?? 0) + 1);
  }

  private unpin(data: Uint8Array): void {
    const count = (this.pinned.get(data) ?? 1) - 1;
    if (count > 0) {
      this.pinned.set(data, count);
      return;
    }
    this.pinned.delete(data);
    if (this.evictedWhilePinned.delete(data) && !this.closed) this.arena?.free(data);
  }

  private evictFromLargest(): void {
    let largest: TopicHistory | undefined;
    for (const history of this.topics.values()) if (largest === undefined || history.bytes > largest.bytes) largest = history;
    if (largest !== undefined) this.evictOldest(largest);
  }

  /** The topic's oldest value leaves (a `latest` topic's becomes its baseline; one with only a baseline loses it). */
  private evictOldest(largest: TopicHistory): void {
    const value = largest.values[largest.head];
    if (value === undefined) {
      // Only a baseline left: it goes too.
      this.dropBaseline(largest);
      return;
    }
    largest.values[largest.head] = undefined as unknown as Recorded;
    largest.head += 1;
    this.count -= 1;
    this.evicted += 1;
    if (largest.info.mode === 'latest') {
      this.dropBaseline(largest);
      largest.baseline = value; // stays counted: its bytes move from the window to the baseline
    } else {
      largest.bytes -= value.bytes;
      this.bytes -= value.bytes;
      this.discard(value);
    }
    if (largest.head > 1024 && largest.head * 2 > largest.values.length) {
      largest.values = largest.values.slice(largest.head);
      largest.head = 0;
    }
  }

  private dropBaseline(history: TopicHistory): void {
    if (history.baseline === undefined) return;
    history.bytes -= history.baseline.bytes;
    this.bytes -= history.baseline.bytes;
    this.discard(history.baseline);
    history.baseline = undefined;
  }

  private forget(history: TopicHistory): void {
    for (let index = history.head; index < history.values.length; index++) this.discard(history.values[index] as Recorded);
    if (history.baseline !== undefined) this.discard(history.baseline);
    this.bytes -= history.bytes;
    this.count -= history.values.length - history.head;
    this.topics.delete(history.info.name);
  }
}
