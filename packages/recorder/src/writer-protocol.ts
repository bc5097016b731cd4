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
  | { kind: 'frame'; topic: number; seq: number; logTime: bigint; publishTime: bigint; header: FrameInit; headerLength: number } & (
      | { message: Uint8Array; ring?: undefined }
      | { message?: undefined; ring: { offset: number; length: number; end: number } }
    );

export type ToWriter =
  | { type: 'items'; items: WireItem[]; bytes: number }
  | { type: 'end' }
  | { type: 'written'; id: number; error?: string };

export type FromWriter =
  | { type: 'ready' }
  /**
   * `bytes`: queued bytes the thread has dealt with since its last report; `buffers`: the frames' buffers
   * it is done with, transferred back for the event loop's next copies; `ringEnd`: the shared ring is read
   * up to there (the frames before it are written).
   */
  | { type: 'progress'; bytes: number; position: number; counts: [string, number][]; buffers: ArrayBuffer[]; ringEnd: number }
  | { type: 'write'; id: number; data: Uint8Array }
  | { type: 'ended'; position: number; counts: [string, number][]; file?: Uint8Array }
  | { type: 'failed'; code: RecorderErrorCode; message: string };
