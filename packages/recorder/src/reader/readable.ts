/**
 * Random access to a recording for `@mcap/core`'s indexed reader: the file itself, or the file's data
 * section up to a cut followed by a summary made in memory (a recording cut off by a crash, or one whose
 * damaged chunks are left out of the index). The indexed reader cannot tell the two apart, so seeking in a
 * recovered file uses the same index code as in a complete one.
 */
import type { FileHandle } from 'node:fs/promises';
import type { McapTypes } from '@mcap/core';

export type Readable = McapTypes.IReadable;

/** Largest single read the reader will do (a chunk, a summary): a lying length in a file cannot make it allocate more. */
export const MAX_READ_BYTES = 1024 * 2 ** 20;

export class FileReadable implements Readable {
  readonly handle: FileHandle;
  readonly bytes: bigint;

  constructor(handle: FileHandle, bytes: bigint) {
    this.handle = handle;
    this.bytes = bytes;
  }

  async size(): Promise<bigint> {
    return this.bytes;
  }

  async read(offset: bigint, size: bigint): Promise<Uint8Array> {
    if (offset < 0n || size < 0n || offset + size > this.bytes) throw new RangeError(`read of ${size} bytes at ${offset} is outside the file (${this.bytes} bytes)`);
    if (size > BigInt(MAX_READ_BYTES)) throw new RangeError(`read of ${size} bytes exceeds the reader's limit of ${MAX_READ_BYTES}`);
    const buffer = new Uint8Array(Number(size));
    let done = 0;
    while (done < buffer.length) {
      const { bytesRead } = await this.handle.read(buffer, done, buffer.length - done, Number(offset) + done);
      if (bytesRead === 0) throw new RangeError(`the file ended at ${Number(offset) + done} while reading (it shrank?)`);
      done += bytesRead;
    }
    return buffer;
  }
}

/** `file[0, cut)` then `tail`: a data section followed by a summary built in memory. */
export class SplicedReadable implements Readable {
  private readonly file: Readable;
  private readonly cut: bigint;
  private readonly tail: Uint8Array;

  constructor(file: Readable, cut: bigint, tail: Uint8Array) {
    this.file = file;
    this.cut = cut;
    this.tail = tail;
  }

  async size(): Promise<bigint> {
    return this.cut + BigInt(this.tail.byteLength);
  }

  async read(offset: bigint, size: bigint): Promise<Uint8Array> {
    const end = offset + size;
    if (end <= this.cut) return this.file.read(offset, size);
    if (offset >= this.cut) return this.tail.subarray(Number(offset - this.cut), Number(end - this.cut));
    const head = await this.file.read(offset, this.cut - offset);
    const out = new Uint8Array(Number(size));
    out.set(head, 0);
    out.set(this.tail.subarray(0, Number(end - this.cut)), head.length);
    return out;
  }
}
