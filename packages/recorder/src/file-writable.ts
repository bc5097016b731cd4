import { open, type FileHandle } from 'node:fs/promises';
import type { IWritable } from '@mcap/core';
import { RecorderError, RecorderErrorCode } from './errors.js';

/** Where a recording goes: `@mcap/core`'s writable, plus a close. */
export interface RecordingWritable extends IWritable {
  close?(): Promise<void>;
}

/** A new file (an existing one is replaced), written in order from the start. */
export async function openFileWritable(path: string): Promise<RecordingWritable> {
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
    // McapWriter reuses its buffers: keep a copy.
    this.parts.push(buffer.slice());
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
