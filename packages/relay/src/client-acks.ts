/**
 * The browser client's side of credit-based delivery (protocol 1.2): which values to acknowledge, and
 * when. A value of a `latest` topic is acknowledged (`handled {topic, seq}`) once every handler of its
 * topic is done with it: returned, or — if it returned a promise — settled, and every `done` it took
 * with `event.defer()` called (a widget that draws on the next animation frame acknowledges what it drew,
 * not what it was handed). Browser-safe: no Node imports (it is part of `@webmon/relay/client`).
 *
 * Acknowledgements are bound to the subscription they answer: a value handled after its topic was
 * unsubscribed, retired or the connection replaced is not acknowledged on the new one, where its seq would
 * mean another value (a restarted server or a re-declared topic counts from 0 again) and the server would
 * take it for a lie (`BAD_ACK`).
 */
import type { TopicInfo } from '@webmon/protocol';

/** Holds the acknowledgement of a value until the returned function is called (once; later calls do nothing). */
export type Defer = () => () => void;

const NOTHING = (): void => undefined;
/** Values that are not acknowledged (stream topics, no window, an older server) still offer `defer`. */
const NO_DEFER: Defer = () => NOTHING;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** Rethrown outside delivery: an app handler's bug must not break delivery to the others. */
function surface(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

export class Acknowledger {
  /** The server speaks 1.2 and the client asked for a window: `subscribe` carries it and values are acknowledged. */
  private active = false;
  private readonly latest = new Set<string>();
  /** Per topic, the subscription values belong to; a fresh number (never reused) when one ends. */
  private readonly generations = new Map<string, number>();
  private nextGeneration = 1;
  /** Per topic, the newest seq acknowledged on the current subscription (acknowledgements are cumulative). */
  private readonly acked = new Map<string, number>();

  constructor(
    /** Credit window asked for in `subscribe`; 0 = never acknowledge. */
    readonly window: number,
    private readonly send: (topic: string, seq: number) => void,
  ) {}

  /** The `window` to put in a `subscribe` now, if any. */
  get subscribeWindow(): number | undefined {
    return this.active ? this.window : undefined;
  }

  /** A new connection greeted us: whatever was handed out before belongs to the old one. */
  connected(serverVersion: string, topics: readonly TopicInfo[]): void {
    this.active = this.window > 0 && versionAtLeast(serverVersion, 1, 2);
    this.generations.clear();
    this.acked.clear();
    this.latest.clear();
    for (const topic of topics) if (topic.mode === 'latest') this.latest.add(topic.name);
  }

  topicsChanged(added: readonly TopicInfo[], removed: readonly string[]): void {
    for (const name of removed) {
      this.latest.delete(name);
      this.restart(name);
    }
    for (const topic of added) {
      if (topic.mode === 'latest') this.latest.add(topic.name);
      else this.latest.delete(topic.name);
      this.restart(topic.name);
    }
  }

  /** The client subscribes to or unsubscribes from `topic`: values handed out before are not acknowledged. */
  restart(topic: string): void {
    this.generations.delete(topic);
    this.acked.delete(topic);
  }

  /**
   * Runs every handler with the event (plus its `defer`) and acknowledges the value when all are done.
   * Handler errors are rethrown asynchronously and count as done: a bad value must not stall its topic.
   * `settled`, when given, is called once at that same moment, acknowledged or not (a stream topic, no
   * window): the value's bytes are free to be taken back then (`SubscribeOptions.borrowFrames`).
   */
  dispatch<Event extends { topic: string; seq: number }>(handlers: Iterable<(event: Event & { defer: Defer }) => unknown>, event: Event, acknowledge = true, settled?: () => void): void {
    const { topic, seq } = event;
    // `acknowledge` false: an older item of a multi-item snapshot (1.5), covered by its newest item's acknowledgement.
    const acknowledged = acknowledge && this.active && this.latest.has(topic);
    if (!acknowledged && settled === undefined) {
      const plain = Object.assign(event, { defer: NO_DEFER });
      for (const handler of handlers) {
        try {
          const result = handler(plain);
          if (isThenable(result)) result.then(undefined, surface);
        } catch (error) {
          surface(error);
        }
      }
      return;
    }
    const generation = acknowledged ? this.generationOf(topic) : undefined;
    // One count for the dispatch itself, so the value is not acknowledged before every handler has run.
    let open = 1;
    let sent = false;
    const finish = (): void => {
      open -= 1;
      if (open === 0 && !sent) {
        sent = true;
        if (generation !== undefined) this.acknowledge(topic, seq, generation);
        settled?.();
      }
    };
    const hold = (): (() => void) => {
      if (sent) return NOTHING; // deferring after the value was acknowledged: too late to hold it
      open += 1;
      let called = false;
      return () => {
        if (called) return;
        called = true;
        finish();
      };
    };
    const credited = Object.assign(event, { defer: hold });
    for (const handler of handlers) {
      const done = hold();
      try {
        const result = handler(credited);
        if (isThenable(result)) result.then(done, (error: unknown) => (done(), surface(error)));
        else done();
      } catch (error) {
        done();
        surface(error);
      }
    }
    finish();
  }

  /**
   * A value that reached no handler because it was refused (its payload failed validation): acknowledged
   * at once, or one bad value would stall its topic.
   */
  dropped(topic: string, seq: number): void {
    if (this.active && this.latest.has(topic)) this.acknowledge(topic, seq, this.generationOf(topic));
  }

  private generationOf(topic: string): number {
    let generation = this.generations.get(topic);
    if (generation === undefined) {
      generation = this.nextGeneration++;
      this.generations.set(topic, generation);
    }
    return generation;
  }

  private acknowledge(topic: string, seq: number, generation: number): void {
    if (this.generations.get(topic) !== generation) return; // that subscription is over
    const last = this.acked.get(topic);
    if (last !== undefined && seq <= last) return; // a newer value was acknowledged already: it covers this one
    this.acked.set(topic, seq);
    this.send(topic, seq);
  }
}

/** `version` (semver, e.g. `1.2.0`) is at least `major.minor` within the same major. */
export function versionAtLeast(version: string, major: number, minor: number): boolean {
  const match = /^(\d+)\.(\d+)/.exec(version);
  if (match === null) return false;
  return Number(match[1]) === major && Number(match[2]) >= minor;
}
