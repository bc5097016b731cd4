import type { IWritable } from '@mcap/core';

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
