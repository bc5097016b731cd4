/**
 * A declared topic: its sequence counter, newest value (`latest`) and replay window (`stream`, and JSON
 * `latest` topics with `replayMs`).
 */
import type { DeliveryMode, TopicInfo } from '@webmon/protocol';
import type { Entry, FrameEntry } from './entries.js';
import { holdEntry, letGo } from './frame-hold.js';
import type { PendingView, ViewSlot } from './view-slots.js';

export interface RelayTopicOptions {
  /** Topic name (letters, digits, `_ . : / -`). */
  name: string;
  mode: DeliveryMode;
  /** Id of the payload schema announced in `hello`. @default 'webmon.v1/json' */
  schema?: string;
  /** Payloads are binary frames (`publishFrame`) rather than JSON (`publish`). @default false */
  binary?: boolean;
  /**
   * Milliseconds of history sent to a late joiner: a `stream` topic's replay window, or (protocol 1.5) the
   * values of a JSON `latest` topic in that window, oldest first, the newest last (a chart opened late shows
   * the window before now). Ignored by binary `latest` topics, whose snapshot is their newest value. @default 0
   */
  replayMs?: number;
  /** With `replayMs`: most entries kept for late joiners, whatever their age. @default 10_000 */
  replayMaxItems?: number;
  /** With `replayMs`: most bytes kept for late joiners. @default 16 MiB */
  replayMaxBytes?: number;
  /** JSON topics: checks each payload before it is published; throw to refuse it (`RELAY_BAD_PAYLOAD`). */
  validate?: (payload: unknown) => unknown;
}

export class Topic {
  readonly info: TopicInfo;
  readonly mode: DeliveryMode;
  readonly binary: boolean;
  readonly validate: ((payload: unknown) => unknown) | undefined;
  private readonly options: RelayTopicOptions;
  private seq = 0;
  latest: Entry | undefined;
  /**
   * Array views of `latest` made for the pages that asked, by view key: each is computed once and shared
   * by every page with that view (or waited for while it is computed), and all are dropped when the next
   * value arrives (see `views.ts`).
   */
  readonly views = new Map<string, FrameEntry | PendingView>();
  /** Per distinct view key, what is computing and what waits to be computed ahead (kept across values). */
  readonly viewSlots = new Map<string, ViewSlot>();
  private replay: Entry[] = [];
  private replayHead = 0;
  private replayBytes = 0;
  private readonly replayMs: number;
  private readonly replayMaxItems: number;
  private readonly replayMaxBytes: number;

  constructor(options: RelayTopicOptions) {
    this.options = options;
    this.mode = options.mode;
    this.binary = options.binary ?? false;
    this.validate = options.validate;
    // A binary latest topic's history would be whole arrays (megabytes each) for a chart that shows numbers.
    this.replayMs = options.mode === 'stream' || options.binary !== true ? (options.replayMs ?? 0) : 0;
    this.replayMaxItems = options.replayMaxItems ?? 10_000;
    this.replayMaxBytes = options.replayMaxBytes ?? 16 * 2 ** 20;
    this.info = {
      name: options.name,
      mode: options.mode,
      schema: options.schema ?? 'webmon.v1/json',
      ...(this.binary ? { binary: true } : {}),
      ...(this.replayMs > 0 ? { replayMs: this.replayMs } : {}),
    };
  }

  /** Declared with the same options (a source declaring its topic again after a reconnect). */
  sameAs(options: RelayTopicOptions): boolean {
    const keys = new Set([...Object.keys(options), ...Object.keys(this.options)]) as Set<keyof RelayTopicOptions>;
    for (const key of keys) if (options[key] !== this.options[key]) return false;
    return true;
  }

  /** The seq the next value will get. */
  peekSeq(): number {
    return this.seq;
  }

  nextSeq(): number {
    const seq = this.seq;
    this.seq += 1;
    return seq;
  }

  record(entry: Entry): void {
    if (this.mode === 'latest') {
      const previous = this.latest;
      holdEntry(entry);
      this.latest = entry;
      this.views.clear();
      letGo(previous);
    }
    if (this.replayMs === 0) return;
    holdEntry(entry);
    this.replay.push(entry);
    this.replayBytes += entry.bytes;
    this.trim(entry.time);
  }

  /**
   * What a late joiner gets: the replay window as of `now` (on the relay's clock), oldest first; a `latest`
   * topic's newest value always, last, however old it is (it is the current state).
   */
  snapshot(now: number): Entry[] {
    if (this.mode === 'latest' && this.replayMs === 0) return this.latest ? [this.latest] : [];
    this.trim(now);
    const window = this.replay.slice(this.replayHead);
    if (this.mode === 'latest' && window.length === 0 && this.latest !== undefined) window.push(this.latest);
    return window;
  }

  /** A new session (`relay.restartSession`): the values of the old one are gone; seq numbers go on. */
  clear(): void {
    letGo(this.latest);
    this.latest = undefined;
    this.views.clear();
    // What the view slots keep of the old values (computations running hold theirs until they end).
    for (const slot of this.viewSlots.values()) {
      letGo(slot.queued?.entry);
      letGo(slot.newest?.entry);
      slot.queued = undefined;
      slot.newest = undefined;
    }
    for (let i = this.replayHead; i < this.replay.length; i++) letGo(this.replay[i]);
    this.replay = [];
    this.replayHead = 0;
    this.replayBytes = 0;
  }

  private trim(now: number): void {
    const oldest = now - this.replayMs;
    while (this.replayHead < this.replay.length) {
      const entry = this.replay[this.replayHead] as Entry;
      const count = this.replay.length - this.replayHead;
      if (entry.time >= oldest && count <= this.replayMaxItems && this.replayBytes <= this.replayMaxBytes) break;
      this.replay[this.replayHead] = undefined as unknown as Entry;
      this.replayHead += 1;
      this.replayBytes -= entry.bytes;
      letGo(entry);
    }
    if (this.replayHead > 1024 && this.replayHead * 2 > this.replay.length) {
      this.replay = this.replay.slice(this.replayHead);
      this.replayHead = 0;
    }
  }
}
