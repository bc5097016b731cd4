/**
 * Plays a recording into a relay as if it were live: the recorded topics are declared, and each value is
 * published when the replay clock reaches its log time (scaled by the speed). A seek starts a new relay
 * session — every page drops what it holds, as after a server restart — and publishes the state at the
 * cursor (`Recording.stateAt`: latest values, chart and stream windows before it), found through the index.
 * The relay tells pages where the clock is (`setTimeline`), so the only difference a page can see is the
 * timeline in the header.
 */
import type { FrameDescription } from '@webmon/relay';
import { RecorderError, RecorderErrorCode } from '../errors.js';
import type { RecordedMessage, Recording } from '../reader/recording.js';

export type ReplayState = 'playing' | 'paused' | 'ended';

/** Where the replay clock is (ms since the epoch, the recording's clock), as pages are told it. */
export interface ReplayTimeline {
  state: ReplayState;
  cursor: number;
  start: number;
  end: number;
  speed: number;
  /** When this was true (the server's clock, ms): a page moves the cursor on from here while playing. */
  time: number;
}

/** What the player needs of a relay (`@webmon/relay`'s `Relay` has it). */
export interface ReplayTarget {
  declareTopic(options: { name: string; mode: 'latest' | 'stream'; schema?: string; binary?: boolean; replayMs?: number }): void;
  publish(topic: string, payload: unknown, options?: { time?: number }): number;
  publishFrame(topic: string, frame: FrameDescription, data: ArrayBufferView): number;
  /** Every page drops what it holds and subscribes again (a new session). */
  restartSession(): void;
  setTimeline(timeline: ReplayTimeline | undefined): void;
}

export interface ReplayOptions {
  /** Start paused at the first message. @default false (playing) */
  paused?: boolean;
  /** @default 1 */
  speed?: number;
  /**
   * `replayMs` for JSON `latest` topics the recording gives none (files from before it was recorded): how
   * much history a chart gets after a seek. @default 60000
   */
  defaultHistoryMs?: number;
  /** Called once whenever the end of the recording is reached. */
  onEnd?: () => void;
}

export interface ReplayStatus {
  state: ReplayState;
  speed: number;
  /** The cursor now, ms since the epoch. */
  cursor: number;
  start: number;
  end: number;
  /** Values published since the replay started (seeks included). */
  published: number;
  seeks: number;
}

export const MIN_REPLAY_SPEED = 0.25;
export const MAX_REPLAY_SPEED = 8;
/** Longest sleep between checks of the clock, so a speed change or pause takes effect quickly. */
const TICK_MS = 50;
/** How often pages are told the clock while playing (they move the cursor on by themselves between). */
const TIMELINE_EVERY_MS = 1000;

const NS_PER_MS = 1_000_000n;
const toMs = (ns: bigint): number => Number(ns / 1000n) / 1000;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface ReplayPlayer {
  play(): void;
  pause(): void;
  /** Moves the cursor to `cursorMs` (clamped to the recording) and shows the state there. */
  seek(cursorMs: number): Promise<void>;
  /** ×0.25 … ×8; else `RECORDER_INVALID_OPTIONS`. */
  setSpeed(speed: number): void;
  /** Pauses and moves to the next (1) or previous (-1) recorded value. */
  step(direction: 1 | -1): Promise<void>;
  status(): ReplayStatus;
  timeline(): ReplayTimeline;
  /** Stops playing; the recording stays open (close it yourself). */
  close(): void;
}

/** Declares the recording's topics on `target`, shows the state at its start and (unless `paused`) plays. */
export async function replayToRelay(recording: Recording, target: ReplayTarget, options: ReplayOptions = {}): Promise<ReplayPlayer> {
  const player = new Player(recording, target, options);
  await player.begin(options.paused ?? false);
  return player;
}

function checkSpeed(speed: number): number {
  if (!Number.isFinite(speed) || speed < MIN_REPLAY_SPEED || speed > MAX_REPLAY_SPEED) {
    throw new RecorderError(RecorderErrorCode.INVALID_OPTIONS, `replay speed must be ${MIN_REPLAY_SPEED}–${MAX_REPLAY_SPEED}, got ${speed}`);
  }
  return speed;
}

class Player implements ReplayPlayer {
  private readonly recording: Recording;
  private readonly target: ReplayTarget;
  private readonly options: ReplayOptions;
  private state: ReplayState = 'paused';
  private speed: number;
  /** The cursor at `anchorWall` (ns): while playing it moves on at `speed` from there. */
  private anchorCursor: bigint;
  private anchorWall = performance.now();
  /** Bumped by every pause, seek and close: a play loop of an older generation stops. */
  private generation = 0;
  private published = 0;
  private seeks = 0;
  private closed = false;
  private timelineTimer: NodeJS.Timeout | undefined;

  constructor(recording: Recording, target: ReplayTarget, options: ReplayOptions) {
    this.recording = recording;
    this.target = target;
    this.options = options;
    this.speed = checkSpeed(options.speed ?? 1);
    this.anchorCursor = recording.startTime;
  }

  async begin(paused: boolean): Promise<void> {
    const history = this.options.defaultHistoryMs ?? 60_000;
    for (const info of this.recording.topics) {
      const replayMs = info.replayMs ?? (info.mode === 'latest' && info.binary !== true ? history : undefined);
      this.target.declareTopic({ name: info.name, mode: info.mode, schema: info.schema, ...(info.binary === true ? { binary: true } : {}), ...(replayMs === undefined ? {} : { replayMs }) });
    }
    await this.showStateAt(this.recording.startTime);
    if (paused) this.tell();
    else this.play();
  }

  play(): void {
    if (this.closed || this.state === 'playing') return;
    if (this.state === 'ended') {
      void this.seek(toMs(this.recording.startTime)).then(() => this.play());
      return;
    }
    this.anchorWall = performance.now();
    this.state = 'playing';
    const generation = ++this.generation;
    this.tell();
    this.timelineTimer ??= setInterval(() => this.tell(), TIMELINE_EVERY_MS);
    void this.run(generation, this.anchorCursor);
  }

  pause(): void {
    if (this.closed || this.state !== 'playing') return;
    this.anchorCursor = this.cursorNow();
    this.state = 'paused';
    this.generation++;
    this.stopTelling();
    this.tell();
  }

  async seek(cursorMs: number): Promise<void> {
    if (this.closed) return;
    if (!Number.isFinite(cursorMs)) throw new RecorderError(RecorderErrorCode.INVALID_OPTIONS, `seek needs a time in ms, got ${cursorMs}`);
    const wasPlaying = this.state === 'playing';
    this.generation++;
    let cursor = BigInt(Math.round(cursorMs * 1000)) * 1000n;
    if (cursor < this.recording.startTime) cursor = this.recording.startTime;
    if (cursor > this.recording.endTime) cursor = this.recording.endTime;
    this.seeks++;
    // Read first, then restart and publish in one go: pages subscribe again only after the new hello
    // reaches them, so they find the whole state in their snapshot (not a burst of live values).
    const state = await this.recording.stateAt(cursor);
    if (this.closed) return;
    this.target.restartSession();
    this.show(state, cursor);
    if (this.state === 'ended') this.state = 'paused';
    if (wasPlaying) {
      this.state = 'paused';
      this.play();
    } else this.tell();
  }

  setSpeed(speed: number): void {
    checkSpeed(speed);
    this.anchorCursor = this.cursorNow();
    this.anchorWall = performance.now();
    this.speed = speed;
    this.tell();
  }

  async step(direction: 1 | -1): Promise<void> {
    this.pause();
    const cursor = this.anchorCursor;
    if (direction === 1) {
      // The next recorded instant: every value stamped with it.
      let at: bigint | undefined;
      for await (const message of this.recording.messages({ start: cursor + 1n })) {
        if (at !== undefined && message.logTime !== at) break;
        at = message.logTime;
        this.publish(message);
      }
      if (at !== undefined) this.anchorCursor = at;
      this.tell();
      return;
    }
    for await (const message of this.recording.messages({ end: cursor - 1n, reverse: true })) {
      await this.seek(toMs(message.logTime));
      return;
    }
  }

  status(): ReplayStatus {
    return { state: this.state, speed: this.speed, cursor: toMs(this.cursorNow()), start: toMs(this.recording.startTime), end: toMs(this.recording.endTime), published: this.published, seeks: this.seeks };
  }

  timeline(): ReplayTimeline {
    return { state: this.state, cursor: toMs(this.cursorNow()), start: toMs(this.recording.startTime), end: toMs(this.recording.endTime), speed: this.speed, time: Date.now() };
  }

  close(): void {
    this.closed = true;
    this.generation++;
    this.stopTelling();
  }

  private cursorNow(): bigint {
    if (this.state !== 'playing') return this.anchorCursor;
    const moved = this.anchorCursor + BigInt(Math.round((performance.now() - this.anchorWall) * this.speed * 1e6));
    return moved > this.recording.endTime ? this.recording.endTime : moved;
  }

  private async showStateAt(cursor: bigint): Promise<void> {
    this.show(await this.recording.stateAt(cursor), cursor);
  }

  private show(state: readonly RecordedMessage[], cursor: bigint): void {
    for (const message of state) this.publish(message);
    this.anchorCursor = cursor;
    this.anchorWall = performance.now();
  }

  /** Publishes every value after `from` when the clock reaches it, until a newer generation starts. */
  private async run(generation: number, from: bigint): Promise<void> {
    const messages = this.recording.messages({ start: from + 1n });
    try {
      for await (const message of messages) {
        if (generation !== this.generation) return;
        for (;;) {
          const ahead = message.logTime - this.cursorNow();
          if (ahead <= 0n) break;
          await sleep(Math.min(TICK_MS, Number(ahead / NS_PER_MS) / this.speed));
          if (generation !== this.generation) return;
        }
        this.publish(message);
      }
    } catch (error) {
      if (generation !== this.generation) return;
      // The file went bad mid-way beyond what can be skipped: stop where it broke, say so.
      console.error(`webmon replay: ${(error as Error).message}`);
    }
    if (generation !== this.generation) return;
    this.anchorCursor = this.recording.endTime;
    this.state = 'ended';
    this.generation++;
    this.stopTelling();
    this.tell();
    this.options.onEnd?.();
  }

  private publish(message: RecordedMessage): void {
    this.published++;
    if (message.kind === 'json') {
      this.target.publish(message.topic, message.payload, { time: toMs(message.publishTime) });
      return;
    }
    const { frame } = message;
    const description: FrameDescription = {
      dtype: frame.dtype,
      shape: frame.shape,
      time: frame.time,
      ...(frame.order === undefined ? {} : { order: frame.order }),
      ...(frame.itemSize === undefined ? {} : { itemSize: frame.itemSize }),
      ...(frame.fields === undefined ? {} : { fields: frame.fields }),
      ...(frame.meta === undefined ? {} : { meta: frame.meta }),
    };
    this.target.publishFrame(message.topic, description, frame.data);
  }

  private tell(): void {
    this.target.setTimeline(this.timeline());
  }

  private stopTelling(): void {
    if (this.timelineTimer !== undefined) clearInterval(this.timelineTimer);
    this.timelineTimer = undefined;
  }
}
