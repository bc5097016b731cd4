import { closeSync, fstatSync, readSync } from 'node:fs';

/**
 * How the reader reaches the ring's bytes. Two implementations:
 * - `FdRingStore`: positioned reads (`pread`) on an open fd. Works everywhere `/dev/shm` is a file
 *   system; every record is copied once by the kernel. Each `pread` is a separate syscall, which also
 *   orders the reads: the slot lock is read before the data and again after it.
 * - `MappedRingStore`: a mapping of the whole block (from a native addon). Reads are plain loads; records
 *   can be handed out as zero-copy views.
 */
export interface RingStore {
  readonly size: number;
  /** Present when the block is mapped: the whole block as bytes (zero-copy views are subarrays of it). */
  readonly mapped: Uint8Array | undefined;
  readU64(position: number): bigint;
  /** Copy `target.byteLength` bytes from `position` into `target`. */
  readInto(target: Uint8Array, position: number): void;
  /** `nlink` and inode of the open block (nlink 0 = unlinked while we hold it). */
  stat(): { ino: number; nlink: number };
  close(): void;
}

export class FdRingStore implements RingStore {
  readonly mapped = undefined;
  private readonly scratch = Buffer.allocUnsafeSlow(8);
  private closed = false;

  constructor(
    readonly fd: number,
    readonly size: number,
  ) {}

  readU64(position: number): bigint {
    this.readInto(this.scratch, position);
    return this.scratch.readBigUInt64LE(0);
  }

  readInto(target: Uint8Array, position: number): void {
    let done = 0;
    // tmpfs serves a whole pread at once; the loop only guards against a short read.
    while (done < target.byteLength) {
      const n = readSync(this.fd, target, done, target.byteLength - done, position + done);
      if (n === 0) throw new RangeError(`read past the end of the ring at ${position + done}`);
      done += n;
    }
  }

  stat(): { ino: number; nlink: number } {
    const st = fstatSync(this.fd);
    return { ino: st.ino, nlink: st.nlink };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

/**
 * A store over a mapping. `mapping` must stay valid until `close()`; `release` (optional) unmaps it.
 * 8-byte fields are read through a BigUint64Array: one aligned 8-byte load each.
 */
export class MappedRingStore implements RingStore {
  readonly mapped: Uint8Array;
  private readonly u64: BigUint64Array;
  private closed = false;

  constructor(
    mapping: Uint8Array,
    private readonly fd: number,
    private readonly release?: () => void,
  ) {
    if (mapping.byteOffset % 8 !== 0) throw new RangeError('ring mapping must be 8-byte aligned');
    this.mapped = mapping;
    this.u64 = new BigUint64Array(mapping.buffer, mapping.byteOffset, Math.floor(mapping.byteLength / 8));
  }

  get size(): number {
    return this.mapped.byteLength;
  }

  readU64(position: number): bigint {
    return this.u64[position / 8]!;
  }

  readInto(target: Uint8Array, position: number): void {
    target.set(this.mapped.subarray(position, position + target.byteLength));
  }

  stat(): { ino: number; nlink: number } {
    const st = fstatSync(this.fd);
    return { ino: st.ino, nlink: st.nlink };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.release?.();
    closeSync(this.fd);
  }
}
