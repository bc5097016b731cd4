/**
 * What the event loop and the writer thread (`writer-worker.ts`) say to each other. The thread owns the
 * `McapWriter` (and so the chunk compression) and the file; the event loop only copies values into
 * messages. Topics travel once, as a number afterwards, so the thread keeps one `TopicInfo` object per
 * topic (its channel is then found by identity, as on the event loop).
 */
import type { FrameInit, TopicInfo } from '@webmon/protocol';
import type { ChunkCompression } from './compression.js';
import type { RecorderErrorCode } from './errors.js';

export interface WriterSetup {
  /** `file`: the thread opens `path`; `forward`: each write goes back to the event loop's writable; `memory`: the bytes come back at the end. */
  target: 'file' | 'forward' | 'memory';
  path?: string;
  /** `file`: write with `O_DIRECT` where available (`openFileWritable`'s `direct`). */
  directIo?: boolean;
  compression: ChunkCompression;
  compressionLevel: number;
  chunkSize: number;
  /** Most RawImage messages per second per image topic (0: none, `Infinity`: every frame). */
  rawImageHz: number;
  /** Most of one core's time the thread may take, averaged over about a second. */
  maxCpuShare: number;
  /** The shared ring frames arrive in (`shared-ring.ts`); the event loop makes it. */
  ring?: SharedArrayBuffer;
}

export type WireItem =
  | { kind: 'declare'; topic: number; info: TopicInfo; schema: Record<string, unknown> | undefined }
  | { kind: 'json'; topic: number; seq: number; logTime: bigint; publishTime: bigint; json: string }
  /**
   * The whole webmon.v1 frame (header then data) is `length` bytes at `offset` in the shared ring (`ringEnd`:
   * the ring position to release once written), or, when the ring had no room, `message`: a copy the thread
   * owns (transferred).
   */
  /**
   * …or, when the producer's array is in shared memory already (`shared`), the header is `headerBytes` and
   * the array is read where it is: `length` bytes at `offset` in the shared buffer `id` (sent once as
   * `buffer`, the first time it is used, and known by its id until `forget`). The event loop keeps the
   * producer's buffer until the thread reports `ref` done (`sharedDone`).
   */
  | { kind: 'frame'; topic: number; seq: number; logTime: bigint; publishTime: bigint; header: FrameInit; headerLength: number } & (
      | { message: Uint8Array; ring?: undefined; shared?: undefined }
      | { message?: undefined; ring: { offset: number; length: number; end: number }; shared?: undefined }
      | { message?: undefined; ring?: undefined; headerBytes: Uint8Array; shared: SharedFrame }
    );

export interface SharedFrame {
  id: number;
  buffer?: SharedArrayBuffer;
  offset: number;
  length: number;
  ref: number;
}

export type ToWriter =
  /** `forget`: shared buffers (by id) no longer used after these items. */
  | { type: 'items'; items: WireItem[]; bytes: number; forget: number[] }
  | { type: 'end' }
  | { type: 'written'; id: number; error?: string };

export type FromWriter =
  | { type: 'ready' }
  /**
   * `bytes`: queued bytes the thread has dealt with since its last report; `buffers`: the frames' buffers
   * it is done with, transferred back for the event loop's next copies; `ringEnd`: the shared ring is read
   * up to there (the frames before it are written); `sharedDone`: the `ref`s of frames read from shared
   * memory that are written (their producers may have their buffers back).
   */
  | { type: 'progress'; bytes: number; position: number; counts: [string, number][]; buffers: ArrayBuffer[]; ringEnd: number; sharedDone: number[] }
  | { type: 'write'; id: number; data: Uint8Array }
  | { type: 'ended'; position: number; counts: [string, number][]; file?: Uint8Array }
  | { type: 'failed'; code: RecorderErrorCode; message: string };
