import { closeSync, fstatSync, openSync, statSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import * as zlib from 'node:zlib';
import { ShmReaderErrorCode } from '../errors.js';
import { normalizeShmName } from '../shm/block.js';
import { nativeAddon } from '../shm/native.js';
import { crc32 as crc32Js } from './crc32.js';
import { viewForDtype, type RingTypedArray } from './dtype.js';
import { RingError, type WriterDeathReason } from './errors.js';
import {
  DTYPE_FIELD_BYTES,
  FLAG_CRC32,
  H,
  MAX_DIMS,
  MAX_SLOT_COUNT,
  NOTIFY_ABSTRACT_UNIX,
  RING_HEADER_SIZE,
  RING_MAGIC,
  RING_VERSION,
  RingState,
  S,
  SLOT_HEADER_SIZE,
  type RingHeader,
} from './layout.js';
import { FdRingStore, MappedRingStore, type RingStore } from './store.js';

export interface RingReaderOptions {
  /** Directory of POSIX shared memory. Default `/dev/shm` (Linux). */
  dir?: string;
  /** Where to start: the next record written after opening, the newest existing one, or the oldest still in the ring. */
  start?: 'next' | 'latest' | 'oldest';
  /** `every`: deliver every record you can (count overruns). `latest`: always jump to the newest (for displays). */
  policy?: 'every' | 'latest';
  /**
   * With a mapping: `false` hands out zero-copy views into shared memory (valid while `record.isCurrent()`).
   * Ignored without a mapping (positioned reads always copy). Default `true`.
   */
  copy?: boolean;
  /**
   * Copied records whose owner called `record.release()` return their buffer to a pool of at most this
   * many buffers, reused for later records that fit: no allocation and no page faults per frame.
   * Records never released are simply garbage-collected. Default 4.
   */
  poolSize?: number;
  /**
   * Copy records into `SharedArrayBuffer`s instead of Node `Buffer`s: another thread (a file writer, an
   * image computation) can then read a record where it is instead of copying it again. Default `false`.
   */
  sharedMemory?: boolean;
  /**
   * `'auto'`: when the writer announces a notification socket (Linux abstract UNIX socket), sleep until it
   * sends a wake byte (polling only for liveness); otherwise poll. `'poll'`: always poll.
   */
  wake?: 'auto' | 'poll';
  /** Adaptive polling: after new data poll every `minPollMs`, backing off to `sinceLastData × pollBackoff`, at most `maxPollMs`. */
  minPollMs?: number;
  maxPollMs?: number;
  pollBackoff?: number;
  /** How often (while idle) to check writer liveness and whether the block was unlinked or recreated. */
  livenessIntervalMs?: number;
  /** Heartbeat age that counts as a dead writer. Default `max(3000, 5 × the writer's heartbeat interval)`. */
  staleAfterMs?: number;
  /** Switch to a new ring created under the same name (a restarted writer) instead of throwing `RING_RECREATED`. */
  followRecreate?: boolean;
  /** On a dead writer: throw `RING_WRITER_DEAD` after draining (default), or keep waiting for a recreated ring. */
  onWriterDead?: 'throw' | 'wait';
  /** How long `open` waits for the block to appear and be initialised. */
  openTimeoutMs?: number;
  /** Largest slot a reader accepts (bounds what a corrupt header can make us allocate). */
  maxSlotBytes?: number;
  /**
   * `'auto'`: map the block through the package's optional addon (native/, see docs/shm.md) when it is
   * built, else positioned `fs` reads. `'mmap'`: require the addon (`SHM_NATIVE_UNAVAILABLE`). `'fs'`: never map.
   */
  access?: 'auto' | 'mmap' | 'fs';
  /** Diagnostics: overruns, torn reads, checksum failures, unlink, recreation, writer death, close. */
  onEvent?: (event: RingEvent) => void;
}

export const RING_READER_DEFAULTS = {
  dir: '/dev/shm',
  start: 'latest',
  policy: 'every',
  copy: true,
  poolSize: 4,
  sharedMemory: false,
  minPollMs: 1,
  maxPollMs: 10,
  pollBackoff: 0.25,
  livenessIntervalMs: 250,
  followRecreate: true,
  onWriterDead: 'throw',
  openTimeoutMs: 5000,
  maxSlotBytes: 1 << 30,
  access: 'auto',
  wake: 'auto',
} as const satisfies Omit<Required<RingReaderOptions>, 'staleAfterMs' | 'onEvent'>;

export type RingEvent =
  | { type: 'overrun'; skipped: number; nextSeq: number }
  | { type: 'torn'; seq: number }
  | { type: 'checksum-mismatch'; seq: number }
  | { type: 'corrupt-slot'; seq: number; detail: string }
  | { type: 'unlinked' }
  | { type: 'recreated'; generation: bigint }
  | { type: 'writer-dead'; reason: WriterDeathReason }
  | { type: 'closed' };

export interface RingRecord {
  /** Writer sequence number: 1, 2, 3, ... */
  seq: number;
  /** Wall clock at publish (`time.time_ns()`). */
  timeNs: bigint;
  /** CLOCK_MONOTONIC at publish (`time.monotonic_ns()`); comparable with `process.hrtime.bigint()` on Linux. */
  monoNs: bigint;
  /** numpy-style dtype string: `'<f4'`, `'|u1'`, ... */
  dtype: string;
  shape: number[];
  /** Parsed JSON metadata; `null` when the writer sent none; `undefined` when it was not valid JSON (see `metaText`). */
  meta: unknown;
  metaText: string;
  /** The payload bytes. */
  bytes: Uint8Array;
  /** The payload as a typed array for the dtype (or `bytes` when there is no typed view). */
  data: RingTypedArray;
  /** True when `bytes` is a view into shared memory rather than a copy. */
  zeroCopy: boolean;
  /** Whether the slot still holds this record: always check after using a zero-copy view. */
  isCurrent(): boolean;
  /**
   * Hand a copied record's buffer back to the reader for reuse (see `poolSize`). After this, `bytes`,
   * `data` and `meta`-independent views may be overwritten by a later record: do not touch them.
   * No-op for zero-copy records and on a second call.
   */
  release(): void;
}

export interface RingStats {
  /** Records delivered. */
  received: number;
  /** Records overwritten before this reader got them (includes `torn`). */
  overrun: number;
  /** Reads dropped because the writer overwrote the slot while it was being read. */
  torn: number;
  /** Records skipped on purpose by `policy: 'latest'`. */
  superseded: number;
  /** Records dropped because their CRC-32 did not match. */
  checksumFailures: number;
  /** Slots whose header made no sense (dropped). */
  corrupt: number;
  /** Times the reader switched to a recreated ring. */
  recreated: number;
  /** Copies made into a buffer a record's owner had handed back (`release`), not a new one (see `poolSize`). */
  pooledCopies: number;
}

type ResolvedOptions = Required<Omit<RingReaderOptions, 'staleAfterMs' | 'onEvent'>> & Pick<RingReaderOptions, 'staleAfterMs' | 'onEvent'>;

type SlotRead =
  | { kind: 'ok'; record: RingRecord }
  | { kind: 'not-yet' }
  | { kind: 'overwritten'; torn: boolean }
  | { kind: 'checksum' }
  | { kind: 'corrupt'; detail: string };

type Liveness =
  | { kind: 'alive' }
  | { kind: 'closed' }
  | { kind: 'dead'; reason: WriterDeathReason }
  | { kind: 'replaced'; store: OpenedRing };

interface OpenedRing {
  store: RingStore;
  header: RingHeader;
  ino: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const crc32: (data: Uint8Array, value?: number) => number =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function'
    ? (zlib as unknown as { crc32(d: Uint8Array, v?: number): number }).crc32
    : crc32Js;

/**
 * Reads a ring written by `python/webmon_ring.py`. One reader per consumer; any number of readers per ring.
 * Never unlinks or writes the block (it is opened read-only).
 */
export class RingReader implements AsyncIterable<RingRecord> {
  readonly name: string;
  readonly path: string;
  readonly stats: RingStats = { received: 0, overrun: 0, torn: 0, superseded: 0, checksumFailures: 0, corrupt: 0, recreated: 0, pooledCopies: 0 };
  private readonly opts: ResolvedOptions;
  private ring: OpenedRing;
  private nextSeq = 1;
  private lastDataAt = performance.now();
  private lastLivenessAt = performance.now();
  private closed = false;
  private unlinkedReported = false;
  private deadReported = false;
  /** Released slot-sized buffers, reused for copies (see `poolSize`). */
  private pool: Uint8Array[] = [];
  private readonly slotHeader = Buffer.allocUnsafeSlow(SLOT_HEADER_SIZE);
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private notifier: Socket | undefined;
  private notifierConnected = false;

  private constructor(name: string, path: string, ring: OpenedRing, opts: ResolvedOptions) {
    this.name = name;
    this.path = path;
    this.ring = ring;
    this.opts = opts;
    const ws = this.writeSeq();
    const n = ring.header.slotCount;
    this.nextSeq = opts.start === 'next' ? ws + 1 : opts.start === 'latest' ? Math.max(1, ws) : Math.max(1, ws - n + 1);
    this.connectNotifier();
  }

  /** Open the ring `name` (as printed by `RingWriter.name`), waiting up to `openTimeoutMs` for the writer to create it. */
  static async open(name: string, options: RingReaderOptions = {}): Promise<RingReader> {
    name = normalizeShmName(name); // SHM_BAD_NAME for anything that could leave the shm directory
    const opts: ResolvedOptions = { ...RING_READER_DEFAULTS, ...dropUndefined(options) };
    const path = `${opts.dir}/${name}`;
    const deadline = performance.now() + opts.openTimeoutMs;
    let lastError: RingError | undefined;
    for (;;) {
      try {
        const ring = openRing(path, opts);
        if (ring) return new RingReader(name, path, ring, opts);
        lastError = new RingError(ShmReaderErrorCode.RING_NOT_READY, `ring ${name} exists but its writer has not finished initialising it`);
      } catch (error) {
        if (!(error instanceof RingError) || error.code !== ShmReaderErrorCode.SHM_NOT_FOUND) throw error;
        lastError = error;
      }
      if (performance.now() >= deadline) throw lastError;
      await delay(10);
    }
  }

  /** The header of the ring currently read. */
  get header(): RingHeader {
    return this.ring.header;
  }

  /** How the reader waits: woken by the writer's socket, or polling. */
  get wakeMode(): 'notify' | 'poll' {
    return this.notifierConnected ? 'notify' : 'poll';
  }

  /** Whether reads go through a mapping (zero-copy capable) rather than positioned `fs` reads. */
  get mapped(): boolean {
    return this.ring.store.mapped !== undefined;
  }

  /** The writer's newest complete sequence number (0 before the first record). */
  writeSeq(): number {
    return Number(this.ring.store.readU64(H.writeSeq));
  }

  /** The next available record, without waiting; `undefined` when there is nothing new. Never returns a torn record. */
  read(): RingRecord | undefined {
    if (this.closed) throw new RingError(ShmReaderErrorCode.DISPOSED, 'the ring reader is closed');
    const n = this.ring.header.slotCount;
    let ws = this.writeSeq();
    while (this.nextSeq <= ws) {
      const oldest = ws - n + 1;
      if (this.nextSeq < oldest) this.skipOverrun(oldest - this.nextSeq);
      if (this.opts.policy === 'latest' && this.nextSeq < ws) {
        this.stats.superseded += ws - this.nextSeq;
        this.nextSeq = ws;
      }
      const seq = this.nextSeq;
      const result = this.readSlot(seq);
      if (result.kind === 'ok') {
        this.nextSeq = seq + 1;
        this.stats.received++;
        this.lastDataAt = performance.now();
        return result.record;
      }
      if (result.kind === 'not-yet') return undefined;
      this.nextSeq = seq + 1;
      if (result.kind === 'overwritten') {
        if (result.torn) {
          this.stats.torn++;
          this.emit({ type: 'torn', seq });
        }
        this.skipOverrun(1, true);
      } else if (result.kind === 'checksum') {
        this.stats.checksumFailures++;
        this.emit({ type: 'checksum-mismatch', seq });
      } else {
        this.stats.corrupt++;
        this.emit({ type: 'corrupt-slot', seq, detail: result.detail });
      }
      ws = this.writeSeq();
    }
    return undefined;
  }

  /**
   * Wait for the next record. Resolves `undefined` when the writer closed the ring (after the last record)
   * or this reader was closed. Throws `RING_WRITER_DEAD` (after delivering what remains) or `RING_RECREATED`.
   */
  async next(): Promise<RingRecord | undefined> {
    for (;;) {
      if (this.closed) return undefined;
      const record = this.read();
      if (record) return record;
      const now = performance.now();
      if (now - this.lastLivenessAt >= this.opts.livenessIntervalMs) {
        this.lastLivenessAt = now;
        const status = this.liveness();
        if (status.kind !== 'alive') {
          const remaining = this.read(); // the writer may have published between our read and its close/death
          if (remaining) {
            if (status.kind === 'replaced') status.store.store.close();
            return remaining;
          }
          if (status.kind === 'replaced') {
            this.switchTo(status.store);
            continue;
          }
          if (status.kind === 'closed') {
            this.emit({ type: 'closed' });
            this.close();
            return undefined;
          }
          if (!this.deadReported) {
            this.deadReported = true;
            this.emit({ type: 'writer-dead', reason: status.reason });
          }
          if (this.opts.onWriterDead === 'throw') {
            throw new RingError(ShmReaderErrorCode.RING_WRITER_DEAD, `the writer of ring ${this.name} (pid ${this.ring.header.writerPid}) is gone: ${status.reason}`, {
              reason: status.reason,
            });
          }
        }
      }
      await this.sleep(this.pollDelay(now));
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<RingRecord> {
    try {
      for (;;) {
        const record = await this.next();
        if (!record) return;
        yield record;
      }
    } finally {
      this.close();
    }
  }

  /** Stop reading: closes the fd (and mapping). Never unlinks the block. Idempotent; a pending `next()` resolves `undefined`. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.disconnectNotifier();
    this.ring.store.close();
    this.wakeNow();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Check writer liveness, unlink and recreation now (normally done every `livenessIntervalMs` while idle). */
  checkWriter(): 'alive' | 'closed' | 'recreated' | WriterDeathReason {
    const status = this.liveness();
    if (status.kind === 'replaced') {
      status.store.store.close();
      return 'recreated';
    }
    return status.kind === 'dead' ? status.reason : status.kind;
  }

  // -- internals ------------------------------------------------------------------------------

  private skipOverrun(count: number, counted = false): void {
    this.stats.overrun += count;
    if (!counted) this.nextSeq += count;
    this.emit({ type: 'overrun', skipped: count, nextSeq: this.nextSeq });
  }

  private readSlot(seq: number): SlotRead {
    const { store, header } = this.ring;
    const base = RING_HEADER_SIZE + ((seq - 1) % header.slotCount) * header.slotSize;
    const complete = BigInt(seq) * 2n;
    // Seqlock: the writer stores 2·seq−1 before touching the slot and 2·seq after. Read the lock, then
    // the slot, then the lock again; only an unchanged, even lock proves the copy is one whole record.
    const before = store.readU64(base + S.lock);
    if (before !== complete) return before > complete ? { kind: 'overwritten', torn: false } : { kind: 'not-yet' };
    const h = this.slotHeader;
    store.readInto(h, base);
    const lockStillSame = (): boolean => store.readU64(base + S.lock) === before;
    const problem = checkSlotHeader(h, seq, header.slotSize);
    if (problem) return lockStillSame() ? { kind: 'corrupt', detail: problem } : { kind: 'overwritten', torn: true };
    const metaLen = Number(h.readBigUInt64LE(S.metaLen));
    const payloadLen = Number(h.readBigUInt64LE(S.payloadLen));
    const payloadOff = Number(h.readBigUInt64LE(S.payloadOff));
    const flags = h.readUInt32LE(S.flagsAndCrc);
    const crc = h.readUInt32LE(S.flagsAndCrc + 4);
    const ndim = Number(h.readBigUInt64LE(S.ndim));
    const dtype = h.toString('latin1', S.dtype, S.dtype + DTYPE_FIELD_BYTES).replace(/\0+$/, '');
    const shape: number[] = [];
    for (let i = 0; i < ndim; i++) shape.push(Number(h.readBigUInt64LE(S.shape + 8 * i)));
    const timeNs = h.readBigUInt64LE(S.timeNs);
    const monoNs = h.readBigUInt64LE(S.monoNs);

    let metaBytes: Uint8Array;
    let payload: Uint8Array;
    let owned: Uint8Array | undefined;
    const zeroCopy = store.mapped !== undefined && !this.opts.copy;
    if (zeroCopy) {
      metaBytes = new Uint8Array(metaLen);
      store.readInto(metaBytes, base + SLOT_HEADER_SIZE);
      payload = store.mapped!.subarray(base + payloadOff, base + payloadOff + payloadLen);
    } else {
      // Metadata and payload in one read: [meta | padding | payload], payload 64-byte aligned in the buffer.
      const bodyLen = payloadOff - SLOT_HEADER_SIZE + payloadLen;
      // Exact-size allocations (a ring sized for big frames may carry small records); pooled buffers are
      // reused when they are big enough.
      const pooled = this.pool.findIndex((buffer) => buffer.byteLength >= bodyLen);
      owned = pooled >= 0 ? this.pool.splice(pooled, 1)[0]! : this.opts.sharedMemory ? new Uint8Array(new SharedArrayBuffer(bodyLen)) : Buffer.allocUnsafeSlow(bodyLen);
      if (pooled >= 0) this.stats.pooledCopies++;
      const body = owned.subarray(0, bodyLen);
      store.readInto(body, base + SLOT_HEADER_SIZE);
      metaBytes = body.subarray(0, metaLen);
      payload = body.subarray(payloadOff - SLOT_HEADER_SIZE, bodyLen);
    }
    const recycle = (): void => {
      if (owned && this.pool.length < this.opts.poolSize && this.ring.store === store) this.pool.push(owned);
      owned = undefined;
    };
    if (!lockStillSame()) {
      recycle();
      return { kind: 'overwritten', torn: true };
    }
    if (flags & FLAG_CRC32) {
      const actual = crc32(payload, crc32(metaBytes)) >>> 0;
      if (actual !== crc) {
        recycle();
        return lockStillSame() ? { kind: 'checksum' } : { kind: 'overwritten', torn: true };
      }
    }
    let metaText = '';
    let meta: unknown = null;
    if (metaLen > 0) {
      try {
        metaText = utf8.decode(metaBytes);
        meta = JSON.parse(metaText);
      } catch {
        meta = undefined;
      }
    }
    const record: RingRecord = {
      seq,
      timeNs,
      monoNs,
      dtype,
      shape,
      meta,
      metaText,
      bytes: payload,
      data: viewForDtype(dtype, payload),
      zeroCopy,
      isCurrent: () => !this.closed && this.ring.store === store && lockStillSame(),
      release: recycle,
    };
    return { kind: 'ok', record };
  }

  private liveness(): Liveness {
    const { store, header } = this.ring;
    const state = Number(store.readU64(H.state));
    const { nlink } = store.stat();
    // A clean close unlinks too; only an unlink without close is news (e.g. a Python client's resource
    // tracker removed the name, WIRE §4.2, or the writer died and its tracker cleaned up).
    if (nlink === 0 && state !== RingState.closed && !this.unlinkedReported) {
      this.unlinkedReported = true;
      this.emit({ type: 'unlinked' });
    }
    const generation = store.readU64(H.generation);
    const replacement = this.findReplacement();
    if (replacement) {
      if (this.opts.followRecreate) return { kind: 'replaced', store: replacement };
      replacement.store.close();
      throw new RingError(ShmReaderErrorCode.RING_RECREATED, `ring ${this.name} was recreated by a new writer (pid ${replacement.header.writerPid})`);
    }
    if (generation !== header.generation) {
      throw new RingError(ShmReaderErrorCode.RING_RECREATED, `ring ${this.name} was re-initialised in place (generation changed)`);
    }
    if (state === RingState.closed) return { kind: 'closed' };
    if (!pidAlive(header.writerPid)) return { kind: 'dead', reason: 'pid-gone' };
    if (header.heartbeatIntervalMs > 0) {
      const staleAfterMs = this.opts.staleAfterMs ?? Math.max(3000, 5 * header.heartbeatIntervalMs);
      const ageMs = Number(process.hrtime.bigint() - store.readU64(H.heartbeatNs)) / 1e6;
      if (ageMs > staleAfterMs) return { kind: 'dead', reason: 'heartbeat-stale' };
    }
    return { kind: 'alive' };
  }

  /** A different, initialised block now living under our name (a restarted writer), opened; else undefined. */
  private findReplacement(): OpenedRing | undefined {
    let ino: number;
    try {
      ino = statSync(this.path).ino;
    } catch {
      return undefined;
    }
    if (ino === this.ring.ino) return undefined;
    try {
      const ring = openRing(this.path, this.opts);
      if (ring && ring.ino !== this.ring.ino) return ring;
      ring?.store.close();
    } catch {
      // Gone again, or not a ring (yet): look again at the next liveness check.
    }
    return undefined;
  }

  private switchTo(ring: OpenedRing): void {
    this.disconnectNotifier();
    this.ring.store.close();
    this.ring = ring;
    this.connectNotifier();
    this.stats.recreated++;
    this.unlinkedReported = false;
    this.deadReported = false;
    this.pool = []; // sized for the old ring's slots
    // Everything in the new ring is new to us: start at its oldest record.
    this.nextSeq = Math.max(1, this.writeSeq() - ring.header.slotCount + 1);
    this.lastDataAt = performance.now();
    this.emit({ type: 'recreated', generation: ring.header.generation });
  }

  private pollDelay(now: number): number {
    // Woken by the writer's socket: the timer only paces liveness checks.
    if (this.notifierConnected) return this.opts.livenessIntervalMs;
    const sinceData = now - this.lastDataAt;
    return Math.min(this.opts.maxPollMs, Math.max(this.opts.minPollMs, sinceData * this.opts.pollBackoff));
  }

  /**
   * Connects to the writer's wake socket if it announced one. The writer accepts at its next publish
   * (the kernel queues us until then). Any failure just leaves the reader polling.
   */
  private connectNotifier(): void {
    if (this.opts.wake !== 'auto' || this.ring.header.notify !== NOTIFY_ABSTRACT_UNIX || process.platform !== 'linux') return;
    const socket = createConnection({ path: `\0webmon-ring/${this.name}/${this.ring.header.generation}` });
    this.notifier = socket;
    socket.unref(); // an idle, forgotten reader must not keep the process alive
    socket.on('connect', () => {
      if (this.notifier === socket) this.notifierConnected = true;
    });
    socket.on('data', () => this.wakeNow());
    socket.on('error', () => {
      // 'close' follows; polling takes over
    });
    socket.on('close', () => {
      if (this.notifier !== socket) return;
      this.notifier = undefined;
      this.notifierConnected = false;
      this.lastLivenessAt = -Infinity; // the writer closed or went away: check the ring now
      this.wakeNow();
    });
  }

  private disconnectNotifier(): void {
    const socket = this.notifier;
    this.notifier = undefined;
    this.notifierConnected = false;
    socket?.destroy();
  }

  private wakeNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.wake = undefined;
        resolve();
      }, ms);
    });
  }

  private emit(event: RingEvent): void {
    if (!this.opts.onEvent) return;
    try {
      this.opts.onEvent(event);
    } catch {
      // A throwing listener must not break reading.
    }
  }
}

/** Open and validate a ring block; `undefined` while the writer is still initialising it (no magic yet). */
function openRing(path: string, opts: Pick<ResolvedOptions, 'maxSlotBytes' | 'access'>): OpenedRing | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new RingError(ShmReaderErrorCode.SHM_NOT_FOUND, `no shared memory block at ${path}`, { cause: error });
    if (code === 'EACCES') throw new RingError(ShmReaderErrorCode.SHM_PERMISSION_DENIED, `no permission to read ${path}`, { cause: error });
    throw new RingError(ShmReaderErrorCode.SHM_NOT_FOUND, `cannot open ${path}: ${code ?? String(error)}`, { cause: error });
  }
  let handedOver = false;
  try {
    const st = fstatSync(fd);
    if (st.size < RING_HEADER_SIZE) return undefined;
    const raw = Buffer.allocUnsafeSlow(RING_HEADER_SIZE);
    const probe = new FdRingStore(fd, st.size);
    probe.readInto(raw, 0);
    const magic = raw.readBigUInt64LE(H.magic);
    if (magic === 0n) return undefined;
    if (magic !== RING_MAGIC) {
      throw new RingError(ShmReaderErrorCode.RING_BAD_HEADER, `${path} is not a webmon ring (magic 0x${magic.toString(16)})`);
    }
    const header = parseHeader(raw, path, st.size, opts.maxSlotBytes);
    let store: RingStore = probe;
    if (opts.access !== 'fs') {
      const addon = nativeAddon();
      if (addon) {
        // MAP_PRIVATE + PROT_READ|WRITE (see native/webmon_shm.c): untouched pages are the shared tmpfs
        // pages, coherent with the writer. The mapping is released by the ArrayBuffer's finalizer, so
        // zero-copy views stay valid memory even after close().
        store = new MappedRingStore(new Uint8Array(addon.mapFd(fd, st.size, false)), fd);
      } else if (opts.access === 'mmap') {
        throw new RingError(ShmReaderErrorCode.SHM_NATIVE_UNAVAILABLE, 'access: "mmap" needs the native addon, which is not built or failed to load');
      }
    }
    handedOver = true;
    return { store, header, ino: st.ino };
  } finally {
    if (!handedOver) closeSync(fd);
  }
}

function parseHeader(raw: Buffer, path: string, fileSize: number, maxSlotBytes: number): RingHeader {
  const bad = (what: string): RingError => new RingError(ShmReaderErrorCode.RING_BAD_HEADER, `${path}: ${what}`);
  const vh = raw.readBigUInt64LE(H.versionAndHeaderSize);
  const version = Number(vh & 0xffffffffn);
  const headerSize = Number(vh >> 32n);
  if (version !== RING_VERSION) throw bad(`unsupported ring version ${version} (this reader knows ${RING_VERSION})`);
  if (headerSize !== RING_HEADER_SIZE) throw bad(`header size ${headerSize}, expected ${RING_HEADER_SIZE}`);
  const slotCount = Number(raw.readBigUInt64LE(H.slotCount));
  const slotSize = Number(raw.readBigUInt64LE(H.slotSize));
  const slotCapacity = Number(raw.readBigUInt64LE(H.slotCapacity));
  if (slotCount < 2 || slotCount > MAX_SLOT_COUNT) throw bad(`slot count ${slotCount} out of range`);
  if (slotSize < SLOT_HEADER_SIZE || slotSize % 64 !== 0 || slotSize > maxSlotBytes) throw bad(`slot size ${slotSize} invalid or above maxSlotBytes`);
  if (slotCapacity !== slotSize - SLOT_HEADER_SIZE) throw bad(`slot capacity ${slotCapacity} does not match slot size ${slotSize}`);
  if (RING_HEADER_SIZE + slotCount * slotSize > fileSize) throw bad(`block is ${fileSize} bytes, smaller than ${slotCount} slots of ${slotSize}`);
  return {
    version,
    headerSize,
    slotCount,
    slotSize,
    slotCapacity,
    generation: raw.readBigUInt64LE(H.generation),
    createdNs: raw.readBigUInt64LE(H.createdNs),
    writerPid: Number(raw.readBigUInt64LE(H.writerPid)),
    heartbeatIntervalMs: Number(raw.readBigUInt64LE(H.heartbeatIntervalMs)),
    notify: Number(raw.readBigUInt64LE(H.notify)),
  };
}

/** Why a slot header cannot describe record `seq`, or undefined if it is plausible. */
function checkSlotHeader(h: Buffer, seq: number, slotSize: number): string | undefined {
  if (h.readBigUInt64LE(S.seq) !== BigInt(seq)) return 'sequence field does not match the lock';
  const metaLen = h.readBigUInt64LE(S.metaLen);
  const payloadLen = h.readBigUInt64LE(S.payloadLen);
  const payloadOff = h.readBigUInt64LE(S.payloadOff);
  const ndim = h.readBigUInt64LE(S.ndim);
  if (payloadOff < BigInt(SLOT_HEADER_SIZE) || payloadOff % 64n !== 0n) return `payload offset ${payloadOff} invalid`;
  if (metaLen > payloadOff - BigInt(SLOT_HEADER_SIZE)) return `metadata length ${metaLen} overlaps the payload`;
  if (payloadOff + payloadLen > BigInt(slotSize)) return `payload length ${payloadLen} exceeds the slot`;
  if (ndim > BigInt(MAX_DIMS)) return `ndim ${ndim} > ${MAX_DIMS}`;
  return undefined;
}

function pidAlive(pid: number): boolean {
  if (!(pid > 0)) return true; // unknown pid: rely on the heartbeat
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
