import { open, type FileHandle } from 'node:fs/promises';
import type { IWritable } from '@mcap/core';
import { openDirectFileWritable } from './direct-file-writable.js';
import { RecorderError, RecorderErrorCode } from './errors.js';

/** Where a recording goes: `@mcap/core`'s writable, plus a close and (optionally) a gathered write. */
export interface RecordingWritable extends IWritable {
  close?(): Promise<void>;
  /** Writes the buffers in order, as `write` would one after the other (a file: one `writev`). */
  writev?(buffers: Uint8Array[]): Promise<void>;
  /** Milliseconds spent so far waiting for the device (not CPU), for a writer that budgets its CPU. */
  waitedMs?(): number;
  /**
   * Bytes of padding the MCAP writer should put before `after` more bytes and then `piece`, for the
   * writable to write `piece` from where it is rather than copy it (0: none). See `direct-file-writable.ts`.
   */
  paddingFor?(piece: Uint8Array, after: number): number;
  /** Resolves once the pieces written from where they are (see `paddingFor`) are done with. */
  whenWritten?(): Promise<void>;
  /**
   * Shared memory met after opening whose big pieces may be written from where they are (`false`: they
   * will be copied). See `DirectFileWritable.adopt`.
   */
  adopt?(shared: SharedArrayBuffer): Promise<boolean>;
  /** The writable may drop what it knows of `shared` (pieces already handed over are still written). */
  forget?(shared: SharedArrayBuffer): void;
}

export interface FileWritableOptions {
  /**
   * Write with `O_DIRECT` where the platform and filesystem allow it (Linux), else buffered: see
   * `direct-file-writable.ts` for why, and what it costs. @default true
   */
  direct?: boolean;
  /** Direct only: shared memory whose big pieces are written from where they are (`DirectFileOptions`). */
  inPlace?: SharedArrayBuffer[];
}

/** A new file (an existing one is replaced), written in order from the start. */
export async function openFileWritable(path: string, options: FileWritableOptions = {}): Promise<RecordingWritable> {
  if (options.direct ?? true) {
    const direct = await openDirectFileWritable(path, options.inPlace === undefined ? {} : { inPlace: options.inPlace });
    if (direct !== undefined) return direct;
  }
  let handle: FileHandle;
  try {
    handle = await open(path, 'w');
  } catch (error) {
    throw new RecorderError(RecorderErrorCode.OPEN_FAILED, `cannot create ${path}: ${(error as Error).message}`, { cause: error });
  }
  let position = 0n;
  return {
    position: () => position,
    write: async (buffer) => {
      let offset = 0;
      while (offset < buffer.byteLength) {
        const { bytesWritten } = await handle.write(buffer, offset, buffer.byteLength - offset);
        offset += bytesWritten;
      }
      position += BigInt(buffer.byteLength);
    },
    // A frame's chunk is five pieces (chunk header, definitions, message header, the frame, its index):
    // one system call instead of five, and no joining them into one buffer first.
    writev: async (buffers) => {
      let pending = buffers.filter((buffer) => buffer.byteLength > 0);
      const total = pending.reduce((sum, buffer) => sum + buffer.byteLength, 0);
      while (pending.length > 0) {
        let { bytesWritten } = await handle.writev(pending);
        // A short write (rare for a file): go on from where it stopped.
        while (pending.length > 0 && bytesWritten >= (pending[0] as Uint8Array).byteLength) bytesWritten -= (pending.shift() as Uint8Array).byteLength;
        if (bytesWritten > 0) pending[0] = (pending[0] as Uint8Array).subarray(bytesWritten);
      }
      position += BigInt(total);
    },
    close: () => handle.close(),
  };
}

/** Collects a recording in memory (the flight recorder's saves). */
export class MemoryWritable implements RecordingWritable {
  private readonly parts: Uint8Array[] = [];
  private length = 0;

  position(): bigint {
    return BigInt(this.length);
  }

  write(buffer: Uint8Array): Promise<void> {
    // The writer reuses its buffers (and frames' go back to the event loop): keep a copy (not `slice`,
    // which on a Buffer is a view).
    this.parts.push(new Uint8Array(buffer));
    this.length += buffer.byteLength;
    return Promise.resolve();
  }

  bytes(): Uint8Array {
    // A buffer of its own (not from Buffer's shared pool): it may be transferred to another thread. Not
    // zero-filled first: every byte is written below (a save is hundreds of MiB).
    const bytes = Buffer.allocUnsafeSlow(this.length);
    let offset = 0;
    for (const part of this.parts) {
      bytes.set(part, offset);
      offset += part.byteLength;
    }
    return bytes;
  }
}
