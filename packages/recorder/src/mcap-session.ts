/**
 * One MCAP file being written: registers each topic's schema and channel on first use and turns records
 * into messages. The writer wants every call awaited before the next; callers keep that order. Big
 * values (frames) get chunks of their own (`laned-writer.ts`), so a topic's history reads without them.
 */
import type { TopicInfo } from '@webmon/protocol';
import type { CompressChunk } from './compression.js';
import { FILE_FORMAT_VERSION, FORMAT_METADATA_NAME, IMAGE_CHANNEL_SUFFIX, LIBRARY, channelOf, imageChannelOf, imageShapeOf, rawImageMessage, type ChannelSpec, type JsonSchemaLookup } from './layout.js';
import { LanedMcapWriter, type GatheringWritable } from './laned-writer.js';
import type { Recorded } from './record.js';
import { RateGate } from './rate-gate.js';

export interface SessionOptions {
  writable: GatheringWritable;
  schemas: JsonSchemaLookup | undefined;
  compressChunk: CompressChunk | undefined;
  chunkSize: number;
  /** Most `foxglove.RawImage` messages per second per image topic, by the frames' clock (0: no RawImage channel). */
  rawImageHz: number;
}

const utf8 = new TextEncoder();

export class McapSession {
  private readonly writer: LanedMcapWriter;
  private readonly options: SessionOptions;
  /** Channel ids by TopicInfo object (the relay keeps one per declared topic), then by its JSON. */
  private readonly byInfo = new WeakMap<TopicInfo, number>();
  private readonly byKey = new Map<string, number>();
  private readonly imageChannels = new Map<number, number>();
  private readonly imageGates = new Map<number, RateGate>();
  private readonly schemaIds = new Map<string, number>();
  private rawImageScratch: Uint8Array | undefined;
  /** Messages written, by channel topic. */
  readonly counts = new Map<string, number>();

  constructor(options: SessionOptions) {
    this.options = options;
    this.writer = new LanedMcapWriter({ writable: options.writable, chunkSize: options.chunkSize, compressChunk: options.compressChunk });
  }

  async start(): Promise<void> {
    await this.writer.start({ profile: '', library: LIBRARY });
    await this.writer.addMetadata({ name: FORMAT_METADATA_NAME, metadata: new Map([['format', String(FILE_FORMAT_VERSION)]]) });
  }

  /** Registers a topic's channel now (a declared topic shows in the file even if it never publishes). */
  async declare(info: TopicInfo): Promise<number> {
    const known = this.byInfo.get(info);
    if (known !== undefined) return known;
    const key = JSON.stringify(info);
    let id = this.byKey.get(key);
    if (id === undefined) {
      id = await this.register(channelOf(info, this.options.schemas));
      this.byKey.set(key, id);
    }
    this.byInfo.set(info, id);
    return id;
  }

  async write(record: Recorded): Promise<void> {
    const channelId = await this.declare(record.info);
    // A frame's message is its webmon header then its array, written as two pieces: the array is not
    // copied to be put behind the header (it may be in shared memory the file is written from).
    if (record.kind === 'json') await this.add(channelId, record.info.name, record, utf8.encode(record.json));
    else await this.add(channelId, record.info.name, record, record.data, record.headerBytes);
    if (record.kind !== 'frame' || !(this.options.rawImageHz > 0)) return;
    let gate = this.imageGates.get(channelId);
    if (gate === undefined) {
      gate = new RateGate(this.options.rawImageHz);
      this.imageGates.set(channelId, gate);
    }
    // Not an image, or not due: nothing to write (thinning on purpose is not a drop, and is not counted).
    if (imageShapeOf(record.header) === undefined || !gate.admit(record.header.time)) return;
    const image = rawImageMessage(record.info.name, record.publishTime, record.header, record.data, (byteLength) => this.rawImageBuffer(byteLength));
    if (image === undefined) return;
    let imageId = this.imageChannels.get(channelId);
    if (imageId === undefined) {
      imageId = await this.register(imageChannelOf(record.info));
      this.imageChannels.set(channelId, imageId);
    }
    await this.add(imageId, `${record.info.name}${IMAGE_CHANNEL_SUFFIX}`, record, image);
  }

  /**
   * The buffer RawImage messages are built in, reused: every writable has copied a message (or the kernel
   * has it) once its write resolves, and a new 5.6 MB buffer per message (a 4 MiB frame in base64) was
   * external memory enough to start a full garbage collection every few messages.
   */
  private rawImageBuffer(byteLength: number): Uint8Array {
    if (this.rawImageScratch === undefined || this.rawImageScratch.byteLength < byteLength) this.rawImageScratch = Buffer.allocUnsafeSlow(byteLength);
    return this.rawImageScratch.subarray(0, byteLength);
  }

  end(): Promise<void> {
    return this.writer.end();
  }

  private async add(channelId: number, topic: string, record: Recorded, data: Uint8Array, prefix?: Uint8Array): Promise<void> {
    // The relay's own per-topic sequence number: a reader sees from gaps what was dropped.
    await this.writer.addMessage({ channelId, sequence: record.seq >>> 0, logTime: record.logTime, publishTime: record.publishTime, data, ...(prefix === undefined ? {} : { prefix }) });
    this.counts.set(topic, (this.counts.get(topic) ?? 0) + 1);
  }

  private async register(spec: ChannelSpec): Promise<number> {
    const schemaKey = `${spec.schema.name}\n${spec.schema.encoding}\n${Buffer.from(spec.schema.data).toString('base64')}`;
    let schemaId = this.schemaIds.get(schemaKey);
    if (schemaId === undefined) {
      schemaId = await this.writer.registerSchema(spec.schema);
      this.schemaIds.set(schemaKey, schemaId);
    }
    return this.writer.registerChannel({ topic: spec.topic, messageEncoding: spec.messageEncoding, schemaId, metadata: spec.metadata });
  }
}
