/** The values a topic holds and peers are sent (JSON entries and binary frames), apart from topic.ts, so that topic.ts and views.ts do not import each other. */
import type { FrameInit } from '@webmon/protocol';
import type { FrameHold } from './frame-hold.js';

/** A JSON data message, framed once and shared by every peer. */
export interface JsonEntry {
  kind: 'json';
  topic: string;
  seq: number;
  time: number;
  /** The payload's JSON text (reused to build snapshots without re-serialising). */
  payloadJson: string;
  /** The whole `data` envelope as a complete WebSocket text frame. */
  frame: Buffer;
  bytes: number;
}

/** A binary frame: WebSocket header + webmon frame header, then a view of the producer's data (not copied). */
export interface FrameEntry {
  kind: 'frame';
  topic: string;
  seq: number;
  time: number;
  prefix: Buffer;
  data: Buffer;
  bytes: number;
  /** The frame's header as encoded in `prefix`: what an array view is computed from. */
  header: FrameInit;
  /** Who still reads `data`, when its producer wants the buffer back (`publishFrame`'s `release`; see `frame-hold.ts`). */
  hold?: FrameHold;
}

export type Entry = JsonEntry | FrameEntry;
