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
  /** The whole webmon.v1 binary frame: prefix, JSON header, data (one copy of the producer's bytes). */
  frame: Uint8Array;
  /** Where the array data starts inside `frame`. */
  dataOffset: number;
  bytes: number;
}

export type Recorded = RecordedJson | RecordedFrame;

/** Per-record bookkeeping counted against budgets besides the payload (object, bigint, array slot). */
export const RECORD_OVERHEAD_BYTES = 160;

export function jsonRecord(info: TopicInfo, seq: number, time: number, json: string): RecordedJson {
  return { kind: 'json', info, seq, logTime: nowNs(), publishTime: msToNs(time), json, bytes: json.length + RECORD_OVERHEAD_BYTES };
}

/** Copies the producer's bytes once, next to the encoded header: the message as it will be written. */
export function frameRecord(info: TopicInfo, header: FrameInit, headerBytes: Uint8Array, data: Uint8Array): RecordedFrame {
  const frame = new Uint8Array(headerBytes.length + data.byteLength);
  frame.set(headerBytes, 0);
  frame.set(data, headerBytes.length);
  return {
    kind: 'frame',
    info,
    seq: header.seq,
    logTime: nowNs(),
    publishTime: msToNs(header.time),
    header,
    frame,
    dataOffset: headerBytes.length,
    bytes: frame.length + RECORD_OVERHEAD_BYTES,
  };
}
