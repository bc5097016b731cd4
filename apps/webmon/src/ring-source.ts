/**
 * Shared-memory rings → binary relay topics. The napari side (a plugin, or the simulator) publishes
 * arrays with `webmon_ring.RingWriter` and names its rings in napari's shared dict:
 *
 *     monitor.add_data({'webmon_rings': {'napari.image': ring.name}})
 *
 * webmon reads that entry about once a second over its own manager connection, opens each named ring
 * with `RingReader` and publishes every record with `relay.publishFrame` on the topic (a binary
 * `latest` topic: a slow page gets the newest frame, never a backlog). dtype, shape and the record's
 * JSON metadata travel with the frame; the frame's `time` is the writer's wall clock at publish, so a
 * page can tell how old a frame is.
 */
import { NapariTopics } from '@webmon/napari';
import { dtypeFromNumpyTypestr, type NumericDType } from '@webmon/protocol';
import { RelayError, RelayErrorCode, type Relay, type RelayTopicOptions } from '@webmon/relay';
import { ManagerClient, RingError, RingReader, ShmReaderErrorCode, type DictProxy, type RingRecord } from '@webmon/shm-reader';
import type { Logger } from './logger.js';
import type { NapariAddress } from './napari-source.js';

/** The binary topic the image page draws: one 2-D (or 2-D + channels) array, newest only. */
export const IMAGE_TOPIC = { ...NapariTopics.image, binary: true } as const satisfies RelayTopicOptions;

/** The `napari_data` key a napari plugin sets to `{topic: ring name}`. */
export const RINGS_KEY = 'webmon_rings';

/** numpy `dtype.str` of a ring record → the frame codec's dtype. Others (big-endian, structured) are not sent. */
export function frameDtypeOf(ringDtype: string): NumericDType | undefined {
  return dtypeFromNumpyTypestr(ringDtype);
}

export interface RingSourceOptions {
  relay: Relay;
  logger: Logger;
  /** Binary topics (declared on the relay) that rings may be published on; other names are ignored. */
  topics: readonly string[];
  /** napari's manager, read for `napari_data['webmon_rings']`; none = only `attach()` by hand. */
  napari?: { address: () => NapariAddress; authkey: string };
  /** How often to look at `napari_data['webmon_rings']`. */
  discoverMs?: number;
}

export interface RingTopicStats {
  ring: string;
  frames: number;
  bytes: number;
  /** Records the reader jumped over to stay at the newest (the relay was slower than the writer). */
  superseded: number;
  /** Records with a dtype the frame codec has no name for. */
  unsupported: number;
}

const DISCOVER_MS = 1_000;

export class RingSource {
  private readonly readers = new Map<string, { name: string; reader: RingReader | undefined; stats: RingTopicStats }>();
  private manager: ManagerClient | undefined;
  private napariData: DictProxy | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly warned = new Set<string>();

  constructor(private readonly options: RingSourceOptions) {}

  /** Starts looking for rings in napari's data (no-op without `napari`). */
  start(): void {
    if (this.options.napari) this.scheduleDiscover(0);
  }

  /** Per topic: the ring read and what went through. */
  get stats(): Record<string, RingTopicStats> {
    const stats: Record<string, RingTopicStats> = {};
    for (const [topic, entry] of this.readers) stats[topic] = { ...entry.stats, superseded: entry.reader?.stats.superseded ?? entry.stats.superseded };
    return stats;
  }

  /**
   * Publishes the ring `name` on `topic` (replacing a ring read there before). Resolves once the ring is
   * open; throws `RelayError` `RELAY_UNKNOWN_TOPIC` for a topic not in `topics`, and the reader's
   * `ShmReaderError` (`RingError` `SHM_NOT_FOUND`, `SHM_BAD_NAME`, ...) when the ring cannot be opened.
   */
  async attach(topic: string, name: string): Promise<void> {
    if (!this.options.topics.includes(topic)) throw new RelayError(RelayErrorCode.UNKNOWN_TOPIC, `ring topic ${topic} is not one of ${this.options.topics.join(', ')}`);
    this.detach(topic);
    const entry = { name, reader: undefined as RingReader | undefined, stats: { ring: name, frames: 0, bytes: 0, superseded: 0, unsupported: 0 } };
    this.readers.set(topic, entry);
    // `latest`: a display wants the newest record; older ones would only be dropped by the relay later.
    // Copies (not zero-copy views): the relay keeps a reference to each frame until every page has it.
    let reader: RingReader;
    try {
      reader = await RingReader.open(name, { start: 'latest', policy: 'latest', copy: true, openTimeoutMs: 2_000 });
    } catch (error) {
      if (this.readers.get(topic) === entry) this.readers.delete(topic);
      throw error;
    }
    if (this.stopped || this.readers.get(topic) !== entry) {
      reader.close();
      return;
    }
    entry.reader = reader;
    this.options.logger.info(`publishing ring ${name} on ${topic}`);
    void this.pump(topic, entry, reader);
  }

  detach(topic: string): void {
    const entry = this.readers.get(topic);
    this.readers.delete(topic);
    entry?.reader?.close();
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    for (const topic of [...this.readers.keys()]) this.detach(topic);
    const manager = this.manager;
    this.manager = undefined;
    this.napariData = undefined;
    await manager?.close().catch(() => undefined);
  }

  private async pump(topic: string, entry: { name: string; reader: RingReader | undefined; stats: RingTopicStats }, reader: RingReader): Promise<void> {
    const { relay, logger } = this.options;
    try {
      for (;;) {
        const record = await reader.next();
        if (record === undefined) break; // the writer closed the ring (or we closed the reader)
        this.publish(topic, entry.stats, record);
      }
      if (!this.stopped && this.readers.get(topic) === entry) logger.info(`ring ${entry.name} on ${topic} was closed by its writer`);
    } catch (error) {
      if (this.stopped || this.readers.get(topic) !== entry) return;
      const code = error instanceof RingError ? error.code : undefined;
      logger.warn(`ring ${entry.name} on ${topic}: ${(error as Error).message}${code === ShmReaderErrorCode.RING_WRITER_DEAD ? ' (its writer is gone)' : ''}`);
    } finally {
      entry.stats.superseded = reader.stats.superseded;
      reader.close();
      // Forget it, so discovery opens the ring again if napari still names it (or a new one).
      if (this.readers.get(topic) === entry) this.readers.delete(topic);
    }
  }

  private publish(topic: string, stats: RingTopicStats, record: RingRecord): void {
    const dtype = frameDtypeOf(record.dtype);
    if (dtype === undefined) {
      stats.unsupported++;
      this.warnOnce(`dtype:${topic}:${record.dtype}`, `ring ${stats.ring} on ${topic}: dtype ${record.dtype} cannot be sent as a frame (little-endian numeric dtypes only); skipped`);
      return;
    }
    const meta = record.meta === undefined || record.meta === null ? {} : { meta: record.meta as never };
    // The writer's wall clock, µs precision: pages measure a frame's age against it.
    const time = Number(record.timeNs / 1000n) / 1000;
    try {
      this.options.relay.publishFrame(topic, { dtype, shape: record.shape, time, ...meta }, record.bytes);
    } catch (error) {
      stats.unsupported++;
      this.warnOnce(`frame:${topic}`, `ring ${stats.ring} on ${topic}: ${(error as Error).message}`);
      return;
    }
    stats.frames++;
    stats.bytes += record.bytes.byteLength;
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.options.logger.warn(message);
  }

  private scheduleDiscover(delay = this.options.discoverMs ?? DISCOVER_MS): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.discover()
        .catch((error: unknown) => {
          // napari away or restarting: drop the connection and try again next time.
          this.options.logger.debug(`ring discovery: ${(error as Error).message}`);
          const manager = this.manager;
          this.manager = undefined;
          this.napariData = undefined;
          void manager?.close().catch(() => undefined);
        })
        .finally(() => this.scheduleDiscover());
    }, delay);
    this.timer.unref();
  }

  private async discover(): Promise<void> {
    const napari = this.options.napari;
    if (!napari) return;
    if (!this.napariData) {
      const { host, port } = napari.address();
      this.manager = await ManagerClient.connect({ host, port, authkey: napari.authkey, clientName: 'webmon-rings', connectTimeoutMs: 5_000 });
      this.napariData = await this.manager.dict('napari_data');
    }
    const wanted = ringsFrom(await this.napariData.get(RINGS_KEY));
    for (const [topic, name] of wanted) {
      if (this.stopped) return;
      if (!this.options.topics.includes(topic)) {
        this.warnOnce(`topic:${topic}`, `napari_data['${RINGS_KEY}'] names ring ${name} for topic ${topic}, which webmon does not serve (known: ${this.options.topics.join(', ')}); ignored`);
        continue;
      }
      if (this.readers.get(topic)?.name === name) continue;
      try {
        await this.attach(topic, name);
      } catch (error) {
        this.warnOnce(`open:${topic}:${name}`, `cannot open ring ${name} for ${topic}: ${(error as Error).message}`);
      }
    }
  }
}

/** `{topic: name}` from the pickled dict napari holds (a Map after decoding); anything else → none. */
export function ringsFrom(value: unknown): [string, string][] {
  const entries: [unknown, unknown][] = value instanceof Map ? [...value.entries()] : typeof value === 'object' && value !== null ? Object.entries(value) : [];
  return entries.filter((entry): entry is [string, string] => typeof entry[0] === 'string' && typeof entry[1] === 'string' && entry[1] !== '');
}
