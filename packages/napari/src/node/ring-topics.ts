/**
 * Shared-memory rings → binary relay topics. A producer (a napari plugin, the simulator, any Python
 * program) publishes arrays with `webmon_ring.RingWriter`; each ring attached here is read with
 * `RingReader` and every record is published with `relay.publishFrame` on a binary `latest` topic (a
 * slow page gets the newest frame, never a backlog). dtype, shape and the record's JSON metadata travel
 * with the frame; the frame's `time` is the writer's wall clock at publish, so a page can tell how old a
 * frame is. The topic is declared when its ring opens and retired when the ring goes away.
 */
import { dtypeFromNumpyTypestr, SchemaId } from '@webmon/protocol';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import type { Relay } from '@webmon/relay';
import { RingError, RingReader, ShmReaderErrorCode, type RingRecord } from '@webmon/shm-reader';
import type { BridgeLogger } from './logger.js';
import { RepeatedWarnings } from './repeated-warnings.js';

/** Buffers a ring's reader keeps for reuse once the relay has handed them back. */
const RING_BUFFERS_REUSED = 8;

/**
 * After reading and publishing a record that took `busyMs`, give the event loop at least as long before
 * the next read. A record ready at once resolves `next()` as a microtask, so without this a writer that
 * publishes faster than records can be copied (measured: 4 MiB back to back, 1 840 a second) kept the
 * loop reading: no socket was written, and a page got 3.6 frames a second. A `latest` ring loses nothing
 * by it (the newest record is read next); reading takes at most about half of the loop.
 */
async function yieldAfter(busyMs: number): Promise<void> {
  await (busyMs >= 1 ? sleep(Math.round(busyMs)) : nextTurn());
}

export interface RingTopicStats {
  ring: string;
  frames: number;
  bytes: number;
  /** Records the reader jumped over to stay at the newest (the relay was slower than the writer). */
  superseded: number;
  /** Records with a dtype the frame codec has no name for. */
  unsupported: number;
  /** Records copied into a buffer the relay had handed back, not a new one (no garbage per frame). */
  reusedBuffers: number;
}

interface Attached {
  name: string;
  reader: RingReader | undefined;
  stats: RingTopicStats;
}

export class RingTopics {
  private readonly attached = new Map<string, Attached>();
  private readonly warnings: RepeatedWarnings;
  /** Rings announced at info level: a ring found again after a failure is only a debug line. */
  private readonly announced = new Set<string>();
  private closed = false;

  constructor(
    private readonly relay: Relay,
    private readonly logger: BridgeLogger,
  ) {
    this.warnings = new RepeatedWarnings((message) => logger.warn(message));
  }

  /** The ring currently attached to `topic`, if any. */
  ringOf(topic: string): string | undefined {
    return this.attached.get(topic)?.name;
  }

  get topics(): string[] {
    return [...this.attached.keys()];
  }

  /** Per topic: the ring read and what went through. */
  get stats(): Record<string, RingTopicStats> {
    const stats: Record<string, RingTopicStats> = {};
    for (const [topic, entry] of this.attached) {
      const reader = entry.reader?.stats;
      stats[topic] = { ...entry.stats, superseded: reader?.superseded ?? entry.stats.superseded, reusedBuffers: reader?.pooledCopies ?? entry.stats.reusedBuffers };
    }
    return stats;
  }

  /**
   * Publishes the ring `name` on `topic` (replacing a ring read there before). Resolves once the ring is
   * open; rejects with the reader's `ShmReaderError` (`SHM_NOT_FOUND`, `SHM_BAD_NAME`, ...) when it cannot be.
   */
  async attach(topic: string, name: string): Promise<void> {
    this.detach(topic);
    const entry: Attached = { name, reader: undefined, stats: { ring: name, frames: 0, bytes: 0, superseded: 0, unsupported: 0, reusedBuffers: 0 } };
    this.attached.set(topic, entry);
    // `latest`: a display wants the newest record; older ones would only be dropped by the relay later.
    // Copies (not zero-copy views): the relay keeps a reference to each frame until every page has it,
    // then hands the buffer back (`publishFrame`'s release) for the reader to copy a later record into —
    // no new buffer per frame. The pool covers what the relay holds at once: the newest value, one parked
    // per page, one being written per page, one a view or the recorder reads. In shared memory, so the
    // relay's view threads and the recorder's writer thread read a frame where it is (no copy each).
    let reader: RingReader;
    try {
      reader = await RingReader.open(name, { start: 'latest', policy: 'latest', copy: true, sharedMemory: true, poolSize: RING_BUFFERS_REUSED, openTimeoutMs: 2_000 });
    } catch (error) {
      if (this.attached.get(topic) === entry) this.attached.delete(topic);
      throw error;
    }
    if (this.closed || this.attached.get(topic) !== entry) {
      reader.close();
      return;
    }
    try {
      this.relay.declareTopic({ name: topic, mode: 'latest', schema: SchemaId.frame, binary: true });
    } catch (error) {
      // e.g. a JSON topic of that name exists: nothing may read this ring, so let it go.
      reader.close();
      if (this.attached.get(topic) === entry) this.attached.delete(topic);
      throw error;
    }
    entry.reader = reader;
    const announcement = `publishing ring ${name} on ${topic}`;
    if (this.announced.has(`${topic}\0${name}`)) this.logger.debug(announcement);
    else {
      if (this.announced.size >= 1_024) this.announced.clear();
      this.announced.add(`${topic}\0${name}`);
      this.logger.info(announcement);
    }
    void this.pump(topic, entry, reader);
  }

  /** Stops reading the ring of `topic` and retires the topic. */
  detach(topic: string): void {
    const entry = this.attached.get(topic);
    if (entry === undefined) return;
    this.attached.delete(topic);
    entry.reader?.close();
    if (entry.reader !== undefined) this.relay.retireTopic(topic);
  }

  close(): void {
    this.closed = true;
    for (const topic of [...this.attached.keys()]) this.detach(topic);
  }

  private async pump(topic: string, entry: Attached, reader: RingReader): Promise<void> {
    try {
      for (;;) {
        // A record already there is read at once; only when there is none does `next()` wait.
        const started = performance.now();
        let record = reader.isClosed ? undefined : reader.read();
        const waited = record === undefined;
        if (waited) record = await reader.next();
        if (record === undefined) break; // the writer closed the ring (or we closed the reader)
        const readAt = waited ? performance.now() : started;
        this.publish(topic, entry.stats, record);
        await yieldAfter(performance.now() - readAt);
      }
      if (!this.closed && this.attached.get(topic) === entry) this.logger.info(`ring ${entry.name} on ${topic} was closed by its writer`);
    } catch (error) {
      if (this.closed || this.attached.get(topic) !== entry) return;
      const code = error instanceof RingError ? error.code : undefined;
      // While napari still names a ring whose writer died, discovery opens it again every second and
      // loses it again: one line per ring and cause, then a count now and then.
      this.warnings.warn(
        `pump:${topic}:${entry.name}:${code ?? (error as Error).message}`,
        `ring ${entry.name} on ${topic}: ${(error as Error).message}${code === ShmReaderErrorCode.RING_WRITER_DEAD ? ' (its writer is gone)' : ''}`,
      );
    } finally {
      entry.stats.superseded = reader.stats.superseded;
      entry.stats.reusedBuffers = reader.stats.pooledCopies;
      reader.close();
      // Forget it, so discovery opens the ring again if the producer still names it (or a new one).
      if (this.attached.get(topic) === entry) {
        this.attached.delete(topic);
        this.relay.retireTopic(topic);
      }
    }
  }

  private publish(topic: string, stats: RingTopicStats, record: RingRecord): void {
    const dtype = dtypeFromNumpyTypestr(record.dtype);
    if (dtype === undefined) {
      stats.unsupported++;
      this.warnOnce(`dtype:${topic}:${record.dtype}`, `ring ${stats.ring} on ${topic}: dtype ${record.dtype} cannot be sent as a frame (little-endian numeric dtypes only); skipped`);
      record.release();
      return;
    }
    const meta = record.meta === undefined || record.meta === null ? {} : { meta: record.meta as never };
    // The writer's wall clock, µs precision: pages measure a frame's age against it.
    const time = Number(record.timeNs / 1000n) / 1000;
    try {
      this.relay.publishFrame(topic, { dtype, shape: record.shape, time, ...meta }, record.bytes, () => record.release());
    } catch (error) {
      record.release();
      stats.unsupported++;
      this.warnOnce(`frame:${topic}`, `ring ${stats.ring} on ${topic}: ${(error as Error).message}`);
      return;
    }
    stats.frames++;
    stats.bytes += record.bytes.byteLength;
  }

  warnOnce(key: string, message: string): void {
    this.warnings.once(key, message);
  }
}

/** `{name: ring}` from the converted `webmon_rings` value; anything else → none. */
export function ringsFrom(value: unknown): [string, string][] {
  const entries: [unknown, unknown][] = value instanceof Map ? [...value.entries()] : typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.entries(value) : [];
  return entries.filter((entry): entry is [string, string] => typeof entry[0] === 'string' && typeof entry[1] === 'string' && entry[1] !== '');
}
