/**
 * A recording file written with `O_DIRECT` (Linux): the bytes go from the writer's own buffers to the
 * disk, without the page cache.
 *
 * Why: an image stream is recorded at 100+ MB/s, and a buffered write of a new 4 MiB costs the writing
 * process 6–7 ms of kernel time on the 2-core VM this was built on (each new page-cache page allocated and
 * touched; rewriting pages already cached costs 0.3 ms), against 0.4–0.6 ms written direct — measured with
 * a plain `writeSync` loop. That kernel time was two thirds of what recording added to webmon's CPU. A
 * recorder writing gigabytes a minute also should not push everything else out of the page cache.
 *
 * What it costs, and how it is paid:
 * - `O_DIRECT` wants buffer addresses, lengths and file offsets that are multiples of the block size.
 *   Bytes are copied into staging buffers (`STAGES` of `STAGE_BYTES`, aligned; ≈ 0.2 ms per 4 MiB into
 *   memory reused from the start) and a stage is written when full. At close, the last partial block is
 *   padded with zeros and the file truncated to its length.
 * - The disk's own speed shows: a direct write waits for the device. Writes run in libuv's thread pool
 *   while the writer thread fills the next stage; when every stage is in flight, `write` waits (counted in
 *   `waitedMs`, which is not CPU), the recorder's queue fills and new values are dropped and counted —
 *   what should happen when the disk is slower than the data. (Buffered writes hide a slow disk only
 *   until the kernel's dirty-page limit, a minute or two into a recording, and then block the same way.)
 * - A crash must not lose more than a chunk's worth of time: a stage that has held unwritten bytes for
 *   `FLUSH_AFTER_MS` is written up to its last whole block, and the bytes after it through a second,
 *   buffered descriptor, so the file on disk always ends at the last byte handed over a second ago. The
 *   block holding those bytes is written direct again when it fills; the buffered write is awaited before
 *   any direct write, and the kernel writes back and drops cached pages of a range written direct.
 *
 * - **Frames are written from where they already are.** A big piece in shared memory the writable was
 *   told about (`inPlace`: the writer thread's frame ring) is not copied into a stage: the bytes up to the
 *   file's next block boundary are, the stage is written up to there, the piece's whole blocks are written
 *   straight from the ring, and its last partial block starts the next stage. That needs the piece's
 *   address and its file offset to agree modulo the block size, which the MCAP writer arranges with a
 *   padding record before the chunk (`paddingFor`, ≤ 4 KiB per frame). The copy it saves was the writer
 *   thread's largest cost (1.5 ms of CPU per 4 MiB frame in its profile, against 0.7 for the CRC). The
 *   ring's space is used again once the write is done (`whenWritten`).
 *
 * `openDirectFileWritable` answers `undefined` where `O_DIRECT` is not available (not Linux; a filesystem
 * that refuses it, such as some network ones): the caller then writes buffered.
 */
import { randomUUID } from 'node:crypto';
import { close, constants, ftruncate, open, unlink, write } from 'node:fs';
import { RecorderError, RecorderErrorCode } from './errors.js';
import type { RecordingWritable } from './recording-writable.js';
import { MIN_RECORD_BYTES } from './layout.js';
import { SHARED_COPY_ALIGNMENT, alignLike } from './shared-ring.js';

/** Alignment of buffers, lengths and offsets: the page size, a multiple of every block size in use. */
const BLOCK = 4096;
const STAGE_BYTES = 8 * 2 ** 20;
/** Two stages in flight while a third fills: enough to keep a disk busy, 24 MiB of memory. */
const STAGES = 3;
const FLUSH_AFTER_MS = 1000;
/** Smaller pieces are copied as they are, aligned or not (see `copyIn`). */
const BOUNCE_FROM_BYTES = 64 * 1024;
/** Pieces in known shared memory at least this big are written in place (smaller ones are cheaper copied). */
const IN_PLACE_FROM_BYTES = 2 ** 20;
/** Writes from shared memory in flight at once; beyond it `write` waits (as it does for a free stage). */
const MAX_IN_PLACE_WRITES = 2;

const roundDown = (n: number): number => n - (n % BLOCK);
const roundUp = (n: number): number => roundDown(n + BLOCK - 1);
const modBlock = (n: number): number => ((n % BLOCK) + BLOCK) % BLOCK;

function openFd(path: string, flags: number): Promise<number> {
  return new Promise((resolve, reject) => open(path, flags, 0o666, (error, fd) => (error ? reject(error) : resolve(fd))));
}

function closeFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => close(fd, (error) => (error ? reject(error) : resolve())));
}

/** Writes all of `data` at `position` (a short write goes on from where it stopped). */
async function pwriteAll(fd: number, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.byteLength) {
    const written = await new Promise<number>((resolve, reject) =>
      write(fd, data, done, data.byteLength - done, position + done, (error, bytes) => (error ? reject(error) : resolve(bytes))),
    );
    if (written <= 0) throw new Error(`write returned ${written}`);
    done += written;
  }
}

/**
 * The first offset into `memory` (from 0, in steps of 16: malloc's alignment) at an address the kernel
 * accepts for direct I/O on `fd`, or `undefined`. JavaScript cannot see addresses, so each is tried with a
 * one-block write at file offset 0 — the kernel refuses a misaligned one with EINVAL; the block written is
 * overwritten by the file's first bytes later. Offsets a multiple of BLOCK further on are accepted too.
 */
async function firstAlignedOffset(fd: number, memory: Uint8Array): Promise<number | undefined> {
  for (let offset = 0; offset < BLOCK && offset + BLOCK <= memory.byteLength; offset += 16) {
    try {
      await pwriteAll(fd, memory.subarray(offset, offset + BLOCK), 0);
      return offset;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error;
    }
  }
  return undefined;
}

/**
 * `bytes` of memory starting at an address the kernel accepts for direct I/O on `fd` (exported for the
 * package's record-cpu bench, which writes its floor the same way; not part of the package's API).
 */
export async function alignedMemory(fd: number, bytes: number): Promise<Uint8Array | undefined> {
  const memory = Buffer.allocUnsafeSlow(bytes + BLOCK);
  memory.fill(0, 0, 2 * BLOCK);
  const offset = await firstAlignedOffset(fd, memory);
  return offset === undefined ? undefined : memory.subarray(offset, offset + bytes);
}

export interface DirectFileOptions {
  /**
   * Shared memory whose big pieces are written straight from where they are (the writer thread's frame
   * ring): the caller keeps a piece's bytes unchanged until `whenWritten()` resolves after its write.
   */
  inPlace?: SharedArrayBuffer[];
}

/** The file at `path` (replaced) written direct, or `undefined` when direct I/O is not available there. */
export async function openDirectFileWritable(path: string, options: DirectFileOptions = {}): Promise<DirectFileWritable | undefined> {
  const direct = (constants as { O_DIRECT?: number }).O_DIRECT;
  if (direct === undefined || process.platform !== 'linux') return undefined;
  let fd: number;
  try {
    fd = await openFd(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | direct);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EINVAL') return undefined;
    throw new RecorderError(RecorderErrorCode.OPEN_FAILED, `cannot create ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const memory = await alignedMemory(fd, STAGES * STAGE_BYTES);
    if (memory === undefined) {
      await closeFd(fd);
      return undefined;
    }
    // The second descriptor, buffered, writes the bytes after the last whole block when a stage waits too long.
    const tailFd = await openFd(path, constants.O_WRONLY);
    const stages = Array.from({ length: STAGES }, (_, index) => memory.subarray(index * STAGE_BYTES, (index + 1) * STAGE_BYTES));
    // Where each shared buffer's memory is aligned for the kernel (none found: its pieces are copied).
    const inPlace = new Map<ArrayBufferLike, number>();
    for (const shared of options.inPlace ?? []) {
      const offset = await firstAlignedOffset(fd, new Uint8Array(shared));
      if (offset !== undefined) inPlace.set(shared, offset);
    }
    // A name of its own (never an existing file: `O_EXCL`), unlinked as soon as it is open.
    return new DirectFileWritable(fd, tailFd, stages, inPlace, `${path}.${process.pid}-${randomUUID()}.probe`);
  } catch (error) {
    await closeFd(fd).catch(() => undefined);
    throw new RecorderError(RecorderErrorCode.OPEN_FAILED, `cannot write ${path}: ${(error as Error).message}`, { cause: error });
  }
}

export class DirectFileWritable implements RecordingWritable {
  /** Where the file's writes go: one per stage at a time, in libuv's pool. */
  private readonly free: Uint8Array[];
  private stage: Uint8Array;
  /** The current stage's place in the file (a multiple of BLOCK), its bytes, and how many are on disk. */
  private stageOffset = 0;
  private fill = 0;
  private flushed = 0;
  private length = 0n;
  private readonly inFlight = new Set<Promise<void>>();
  /** The last buffered write of a tail: every direct write waits for it (they may share a block). */
  private tailWrite: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private freed: (() => void) | undefined;
  private waited = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private bounce: Uint8Array | undefined;
  /** Earlier writes of the current stage's bytes (`flushTail`): the stage is reused only after them. */
  private stageWrites: Promise<void>[] = [];
  /** Writes straight from shared memory not yet done. */
  private readonly inPlaceWrites = new Set<Promise<void>>();
  /** Pieces written in place so far (for tests and benchmarks). */
  piecesInPlace = 0;
  /** The descriptor `adopt` probes alignments on; `null` once it could not be opened (nothing more is adopted). */
  private probeFd: Promise<number | null> | undefined;

  constructor(
    private readonly fd: number,
    private readonly tailFd: number,
    stages: Uint8Array[],
    /** Shared buffers whose pieces may be written in place: the first offset the kernel accepts in each. */
    private readonly inPlace: Map<ArrayBufferLike, number> = new Map(),
    /** Where `adopt` tries alignments (a file of its own, unlinked at once: the recording's first block is taken). */
    private readonly probePath: string = '',
  ) {
    this.stage = stages[0] as Uint8Array;
    this.free = stages.slice(1);
  }

  position(): bigint {
    return this.length;
  }

  /** Milliseconds `write` spent waiting for the disk to take a stage: time that was not CPU. */
  waitedMs(): number {
    return this.waited;
  }

  async write(buffer: Uint8Array): Promise<void> {
    await this.append(buffer);
  }

  async writev(buffers: Uint8Array[]): Promise<void> {
    for (const buffer of buffers) await this.append(buffer);
  }

  /**
   * Bytes of padding to write before `after` more bytes and then `piece`, so that `piece` can be written
   * in place: 0 (none needed, or the piece is copied anyway) or at least MIN_RECORD_BYTES (a padding record).
   */
  paddingFor(piece: Uint8Array, after: number): number {
    const aligned = this.inPlace.get(piece.buffer);
    if (aligned === undefined || piece.byteLength < IN_PLACE_FROM_BYTES) return 0;
    const gap = modBlock(piece.byteOffset - aligned - (Number(this.length) + after));
    return gap === 0 || gap >= MIN_RECORD_BYTES ? gap : gap + BLOCK;
  }

  /**
   * Shared memory met after opening (a producer's frames that arrive in it): its big pieces are written
   * from where they are, as the ring's, once the kernel's alignment for it is known. Probed on a file of
   * its own (a one-block write per offset tried, as at opening); resolves `false` when no offset is
   * accepted or the probe file cannot be made: its pieces are then copied, as any other.
   */
  async adopt(shared: SharedArrayBuffer): Promise<boolean> {
    if (this.inPlace.has(shared)) return true;
    this.probeFd ??= openFd(this.probePath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants as { O_DIRECT: number }).O_DIRECT).then(
      async (fd) => {
        await new Promise<void>((resolve) => unlink(this.probePath, () => resolve()));
        return fd;
      },
      () => null,
    );
    const fd = await this.probeFd;
    if (fd === null || this.closed) return false;
    const offset = await firstAlignedOffset(fd, new Uint8Array(shared)).catch(() => undefined);
    if (offset === undefined) return false;
    this.inPlace.set(shared, offset);
    return true;
  }

  /** Stops treating `shared` as adopted (its pieces already handed over are still written from it). */
  forget(shared: SharedArrayBuffer): void {
    this.inPlace.delete(shared);
  }

  /** Resolves once every piece written in place so far is on disk (its memory may then change). */
  whenWritten(): Promise<void> {
    return this.inPlaceWrites.size === 0 ? Promise.resolve() : Promise.all([...this.inPlaceWrites]).then(() => undefined);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    try {
      this.check();
      if (this.fill > this.flushed) {
        const end = roundUp(this.fill);
        this.stage.fill(0, this.fill, end);
        this.submit(this.stage.subarray(this.flushed, end), this.stageOffset + this.flushed);
      }
      await Promise.all([...this.inFlight]);
      await this.tailWrite;
      this.check();
      await new Promise<void>((resolve, reject) => ftruncate(this.fd, Number(this.length), (error) => (error ? reject(error) : resolve())));
    } finally {
      const probeFd = await this.probeFd;
      await Promise.all([closeFd(this.fd).catch(() => undefined), closeFd(this.tailFd).catch(() => undefined), probeFd == null ? undefined : closeFd(probeFd).catch(() => undefined)]);
    }
  }

  private async append(data: Uint8Array): Promise<void> {
    if (this.fitsInPlace(data)) await this.appendInPlace(data);
    else await this.copy(data);
    this.length += BigInt(data.byteLength);
    if (this.timer === undefined && this.fill > this.flushed) {
      this.timer = setTimeout(() => this.flushTail(), FLUSH_AFTER_MS);
      this.timer.unref?.();
    }
  }

  /** A big piece of known shared memory whose address agrees with its file offset modulo BLOCK. */
  private fitsInPlace(data: Uint8Array): boolean {
    const aligned = this.inPlace.get(data.buffer);
    return aligned !== undefined && data.byteLength >= IN_PLACE_FROM_BYTES && modBlock(data.byteOffset - aligned - (this.stageOffset + this.fill)) === 0;
  }

  /**
   * The bytes up to the file's next block boundary into the stage, the stage written, the piece's whole
   * blocks written from where they are, and its last partial block into a new stage placed after them.
   */
  private async appendInPlace(data: Uint8Array): Promise<void> {
    const head = modBlock(-(this.stageOffset + this.fill));
    await this.copy(data.subarray(0, head));
    const bodyStart = this.stageOffset + this.fill;
    const bodyLength = roundDown(data.byteLength - head);
    await this.nextStage(bodyStart + bodyLength);
    if (this.inPlaceWrites.size >= MAX_IN_PLACE_WRITES) {
      const start = performance.now();
      while (this.inPlaceWrites.size >= MAX_IN_PLACE_WRITES) {
        this.check();
        await Promise.race(this.inPlaceWrites);
      }
      this.waited += performance.now() - start;
    }
    this.check();
    const written = this.submit(data.subarray(head, head + bodyLength), bodyStart);
    this.inPlaceWrites.add(written);
    void written.then(() => this.inPlaceWrites.delete(written));
    this.piecesInPlace += 1;
    await this.copy(data.subarray(head + bodyLength));
  }

  /** `data` into stages, each written when full. */
  private async copy(data: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < data.byteLength) {
      this.check();
      const count = Math.min(data.byteLength - offset, STAGE_BYTES - this.fill);
      this.copyIn(offset === 0 && count === data.byteLength ? data : data.subarray(offset, offset + count));
      this.fill += count;
      offset += count;
      if (this.fill === STAGE_BYTES) await this.nextStage(this.stageOffset + STAGE_BYTES);
    }
  }

  /**
   * `data` into the stage at `fill`. V8 copies out of a SharedArrayBuffer (the frames' ring) word by word
   * when source and target are not 8-byte aligned alike, and then 7× slower (1.35 ms for 4 MiB against
   * 0.2 here): a big misaligned one goes through a bounce buffer placed to match the source's alignment
   * (two fast copies).
   */
  private copyIn(data: Uint8Array): void {
    const target = this.stage.byteOffset + this.fill;
    if (data.byteLength < BOUNCE_FROM_BYTES || !(data.buffer instanceof SharedArrayBuffer) || alignLike(target, data.byteOffset) === target) {
      this.stage.set(data, this.fill);
      return;
    }
    this.bounce ??= new Uint8Array(STAGE_BYTES + SHARED_COPY_ALIGNMENT);
    const shift = alignLike(this.bounce.byteOffset, data.byteOffset) - this.bounce.byteOffset;
    this.bounce.set(data, shift);
    this.stage.set(this.bounce.subarray(shift, shift + data.byteLength), this.fill);
  }

  /**
   * The stage's bytes (which end at a block boundary) go to the disk; the next stage, the first free
   * (waiting for one if need be), starts at file offset `next`. The stage is free again once its write and
   * any earlier write of its bytes (`flushTail`) are done.
   */
  private async nextStage(next: number): Promise<void> {
    const full = this.stage;
    const written = this.submit(full.subarray(this.flushed, this.fill), this.stageOffset + this.flushed);
    const earlier = this.stageWrites;
    this.stageWrites = [];
    void Promise.all([written, ...earlier]).then(() => {
      this.free.push(full);
      this.freed?.();
      this.freed = undefined;
    });
    this.stageOffset = next;
    this.fill = 0;
    this.flushed = 0;
    let stage = this.free.pop();
    if (stage === undefined) {
      const start = performance.now();
      while ((stage = this.free.pop()) === undefined) {
        this.check();
        await new Promise<void>((resolve) => (this.freed = resolve));
      }
      this.waited += performance.now() - start;
    }
    this.stage = stage;
  }

  /** A direct write of whole blocks; resolves (never rejects: a failure is kept for `check`) once done. */
  private submit(data: Uint8Array, position: number): Promise<void> {
    const done: Promise<void> = this.tailWrite
      .then(() => (data.byteLength === 0 ? undefined : pwriteAll(this.fd, data, position)))
      .catch((error: unknown) => {
        this.failure ??= error as Error;
      })
      .finally(() => {
        this.inFlight.delete(done);
        this.freed?.();
        this.freed = undefined;
      });
    this.inFlight.add(done);
    return done;
  }

  /** Bytes held for FLUSH_AFTER_MS: the whole blocks direct, the rest buffered (see the file's comment). */
  private flushTail(): void {
    this.timer = undefined;
    if (this.closed || this.failure !== undefined || this.fill <= this.flushed) return;
    const whole = roundDown(this.fill);
    if (whole > this.flushed) this.stageWrites.push(this.submit(this.stage.subarray(this.flushed, whole), this.stageOffset + this.flushed));
    this.flushed = whole;
    if (this.fill > whole) {
      // No copy needed: bytes before `fill` stay as they are until the stage is written whole, which
      // waits for this write.
      const tail = this.stage.subarray(whole, this.fill);
      const previous = this.tailWrite;
      this.tailWrite = Promise.all([previous, ...this.inFlight])
        .then(() => pwriteAll(this.tailFd, tail, this.stageOffset + whole))
        .catch((error: unknown) => {
          this.failure ??= error as Error;
        });
    }
  }

  private check(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
