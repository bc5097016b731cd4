/**
 * The status line: the sources' state and message rates. On a terminal it is redrawn in place every
 * second; in a log (not a TTY) it is written every 30 s, so logs stay readable.
 */
import type { NapariBridgeCounters } from '@webmon/napari/node';

export interface RateSnapshot {
  /** Each source's state, e.g. `napari connected`. */
  napari: string;
  /** Per second over the last interval. */
  rates: { poll: number; frameTime: number; loadChunk: number; other: number };
  pages: number;
}

export class RateMeter {
  private last: NapariBridgeCounters;
  private lastAt = performance.now();
  private current: RateSnapshot['rates'] = { poll: 0, frameTime: 0, loadChunk: 0, other: 0 };

  constructor(private readonly counters: () => NapariBridgeCounters) {
    this.last = { ...counters() };
  }

  /** Recomputes the rates since the previous call. */
  sample(): RateSnapshot['rates'] {
    const now = performance.now();
    const seconds = Math.max(1e-3, (now - this.lastAt) / 1000);
    const counters = this.counters();
    this.current = {
      poll: (counters.polls - this.last.polls) / seconds,
      frameTime: (counters.frameTimes - this.last.frameTimes) / seconds,
      loadChunk: (counters.loadChunks - this.last.loadChunks) / seconds,
      other: (counters.otherMessages - this.last.otherMessages) / seconds,
    };
    this.last = { ...counters };
    this.lastAt = now;
    return this.current;
  }

  get rates(): RateSnapshot['rates'] {
    return this.current;
  }
}

export function formatStatus(snapshot: RateSnapshot): string {
  const r = snapshot.rates;
  const rate = (value: number): string => (value >= 10 ? value.toFixed(0) : value.toFixed(1));
  return `${snapshot.napari} · poll ${rate(r.poll)}/s · frame_time ${rate(r.frameTime)}/s · load_chunk ${rate(r.loadChunk)}/s${r.other > 0 ? ` · other ${rate(r.other)}/s` : ''} · ${snapshot.pages} page${snapshot.pages === 1 ? '' : 's'} open`;
}

export function startStatusLine(snapshot: () => RateSnapshot, meter: RateMeter, stream: NodeJS.WriteStream, enabled: boolean): () => void {
  const tty = stream.isTTY === true;
  let ticks = 0;
  const timer = setInterval(() => {
    meter.sample();
    ticks++;
    if (!enabled) return;
    const line = formatStatus(snapshot());
    if (tty) stream.write(`\r\x1b[2K${line}`);
    else if (ticks % 30 === 0) stream.write(`webmon: ${line}\n`);
  }, 1_000);
  timer.unref();
  return () => {
    clearInterval(timer);
    if (enabled && tty) stream.write('\r\x1b[2K');
  };
}
