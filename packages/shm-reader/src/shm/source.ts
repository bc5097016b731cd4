/**
 * The byte-level contract the ShareableList and ndarray readers are written against, so the same
 * decoder works on a live block (fs or mmap) and on a `Uint8Array` holding a dump of one.
 */
import { ShmReaderError, ShmReaderErrorCode } from '../errors.js';

export interface ShmByteSource {
  /** Size of the block in bytes. */
  readonly size: number;
  /** Fills `target` with the bytes at `position`. Bounds are checked; liveness is not (see assertReadable). */
  readBytes(target: Uint8Array, position: number): void;
  /** A zero-copy view of the whole block when one exists (mapped block, or a caller's buffer), else null. */
  liveBytes(): Uint8Array | null;
  /** Throws DISPOSED / SHM_GONE when reads would no longer reflect a live block. No-op for buffers. */
  assertReadable(): void;
}

export function checkRange(size: number, position: number, length: number): void {
  if (!Number.isSafeInteger(position) || !Number.isSafeInteger(length) || position < 0 || length < 0 || position + length > size) {
    throw new ShmReaderError(
      ShmReaderErrorCode.SHM_OUT_OF_RANGE,
      `read of ${length} bytes at ${position} is outside the block (size ${size})`,
    );
  }
}

/** A `Uint8Array` (e.g. a dumped block, or one you mapped yourself) as a byte source. */
export class BufferByteSource implements ShmByteSource {
  constructor(private readonly bytes: Uint8Array) {}

  get size(): number {
    return this.bytes.byteLength;
  }

  readBytes(target: Uint8Array, position: number): void {
    checkRange(this.bytes.byteLength, position, target.byteLength);
    target.set(this.bytes.subarray(position, position + target.byteLength));
  }

  liveBytes(): Uint8Array {
    return this.bytes;
  }

  assertReadable(): void {
    // a caller's buffer cannot be unlinked or closed under us
  }
}

export function toByteSource(source: ShmByteSource | Uint8Array): ShmByteSource {
  return source instanceof Uint8Array ? new BufferByteSource(source) : source;
}
