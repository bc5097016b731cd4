/**
 * Byte layout of a webmon shared-memory ring (written by `python/webmon_ring.py`).
 * docs/ring.md describes it byte by byte; these constants must match the Python module's.
 * All integers are little-endian u64 at 8-byte aligned offsets, so each is one aligned store/load.
 */

/** b"WMNRING1" read as a little-endian u64. */
export const RING_MAGIC = 0x31474e49524e4d57n;
export const RING_VERSION = 1;
export const RING_HEADER_SIZE = 4096;
export const SLOT_HEADER_SIZE = 256;
export const MAX_DIMS = 8;
export const DTYPE_FIELD_BYTES = 16;

export const RingState = { initializing: 0, open: 1, closed: 2 } as const;

export const FLAG_CRC32 = 1;

/** Header field byte offsets. */
export const H = {
  magic: 0,
  versionAndHeaderSize: 8,
  slotCount: 16,
  slotSize: 24,
  generation: 32,
  createdNs: 40,
  writerPid: 48,
  state: 56,
  writeSeq: 64,
  heartbeatNs: 72,
  heartbeatIntervalMs: 80,
  slotCapacity: 88,
  notify: 96,
} as const;

/** `H.notify` values: how a writer can wake its readers. */
export const NOTIFY_NONE = 0;
/** An abstract UNIX stream socket `\0webmon-ring/<name>/<generation>`; one byte per record. */
export const NOTIFY_ABSTRACT_UNIX = 1;

/** Slot header field byte offsets, relative to the slot start. */
export const S = {
  lock: 0,
  seq: 8,
  timeNs: 16,
  monoNs: 24,
  payloadLen: 32,
  metaLen: 40,
  payloadOff: 48,
  flagsAndCrc: 56,
  ndim: 64,
  dtype: 72,
  shape: 88,
} as const;

/** Upper bounds a reader accepts from a header (a hostile or corrupt block cannot make us allocate more). */
export const MAX_SLOT_COUNT = 1 << 20;

export interface RingHeader {
  version: number;
  headerSize: number;
  slotCount: number;
  slotSize: number;
  slotCapacity: number;
  generation: bigint;
  createdNs: bigint;
  writerPid: number;
  heartbeatIntervalMs: number;
  /** How the writer wakes readers (`NOTIFY_*`). */
  notify: number;
}
