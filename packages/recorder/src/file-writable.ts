import { open, type FileHandle } from 'node:fs/promises';
import { openDirectFileWritable } from './direct-file-writable.js';
import { RecorderError, RecorderErrorCode } from './errors.js';
import type { RecordingWritable } from './recording-writable.js';

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
