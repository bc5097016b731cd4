/**
 * One value as the recorder keeps it between the relay's tap and the file (or the flight recorder's
 * memory): made once on the publishing path, shared by every writer.
 */
import type { FrameInit, TopicInfo } from '@webmon/protocol';
import { msToNs, nowNs } from './clock.js';

export interface RecordedJson {
  kind: 'json';
  info: TopicInfo;
  /** The relay's sequence number of the value on its topic (written as the MCAP message `sequence`). */
  seq: number;
  /** webmon's receive time (ns since the epoch). */
  logTime: bigint;
  /** The time stamp the value came with (ns): the relay's for JSON values. */
  publishTime: bigint;
  /** The payload's JSON text as the relay serialised it (UTF-8 encoded when written). */
  json: string;
  /** What the record holds in memory, for the budgets (≈ JSON text length). */
  bytes: number;
}

export interface RecordedFrame {
  kind: 'frame';
  info: TopicInfo;
  seq: number;
  logTime: bigint;
  /** The frame's own time (the source's clock when it stamped the frame). */
  publishTime: bigint;
  header: FrameInit;
  /** The encoded webmon.v1 frame prefix and JSON header, as the relay sends it. */
  headerBytes: Uint8Array;
  /**
   * The array data: the producer's buffer itself, not a copy, kept through the relay tap's `keep` — so
   * holding it costs no copy on the publishing path. `release` (once) when it has been copied: the
   * producer may reuse the buffer then.
   */
  data: Uint8Array;
  bytes: number;
  release?: () => void;
}

export type Recorded = RecordedJson | RecordedFrame;

/** Per-record bookkeeping counted against budgets besides the payload (object, bigint, array slot). */
export const RECORD_OVERHEAD_BYTES = 160;

export function jsonRecord(info: TopicInfo, seq: number, time: number, json: string): RecordedJson {
  return { kind: 'json', info, seq, logTime: nowNs(), publishTime: msToNs(time), json, bytes: json.length + RECORD_OVERHEAD_BYTES };
}

export function frameRecord(info: TopicInfo, header: FrameInit, headerBytes: Uint8Array, data: Uint8Array, release?: () => void): RecordedFrame {
  return {
    ...(release === undefined ? {} : { release }),
    kind: 'frame',
    info,
    seq: header.seq,
    logTime: nowNs(),
    publishTime: msToNs(header.time),
    header,
    headerBytes,
    data,
    bytes: headerBytes.length + data.byteLength + RECORD_OVERHEAD_BYTES,
  };
}
