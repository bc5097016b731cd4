/**
 * Array views (protocol 1.3) on the relay's side: the frame a page that asked for a view gets instead of
 * the published one.
 *
 * Cost: one computation per distinct view per published value, and only if a page with that view is
 * ready to take the value. A peer resolves its view when it writes a frame (`Peer.write`), not when the
 * value is published: a value coalesced away while the page's socket was backed up or its credit window
 * full is never computed. The first page to write a value in a view starts its computation, on a thread
 * of the view pool (`view-pool.ts`), and frames it (WebSocket header + webmon header, once) when it comes
 * back; every other page with the same view key waits on the same computation or takes the finished
 * buffers from the topic's cache, which is emptied when the next value is published, so it holds at most
 * one value's views — as many as there are distinct views among the subscribers. A computation already
 * started for a value the topic has since replaced still finishes for the pages that wait on it (they
 * were promised that value); nobody else can ask for it any more.
 */
import { encodeFrameHeader, type CanonicalArrayView, type FrameInit, type FrameView } from '@webmon/protocol';
import { planView, viewDataBytes, type ViewPlan } from './view-math.js';
import { ViewPool, type ComputedView, type ViewPoolStats } from './view-pool.js';
import type { FrameEntry, Topic } from './topic.js';
import { Opcode, frameHeader } from './ws-frame.js';

/** A page's view of one topic: the canonical request and its key (equal views, equal keys). */
export interface PeerView {
  key: string;
  view: CanonicalArrayView;
}

/** A view of a value being computed, and the pages waiting for it. */
export interface PendingView {
  kind: 'pending';
  waiters: ((frame: FrameEntry) => void)[];
}

/** What views cost since the relay started (`relay.stats().views`). */
export interface ViewStats {
  /** Views computed: one per distinct view per published value a page took. */
  computed: number;
  /** Of those, computed on the relay's event loop (pool size 0, or no thread left). */
  computedInline: number;
  /** Frames taken from the cache, or waited for: a view another page had already caused to be computed for that value. */
  shared: number;
  /** Values sent whole to a page that asked for a view: the array is not an image (1-D, 4-D, complex, Fortran order…). */
  whole: number;
  /** Views that failed to compute (a fault of the relay, not of the page): the value was sent whole instead. */
  failed: number;
  /** Time spent computing views, ms, wherever it ran. */
  computeMs: number;
  /** The threads views are computed on. */
  pool: ViewPoolStats;
}

/**
 * Roughly the bytes the WebSocket and webmon headers of a view frame take beyond the published frame's
 * (the `view` field: the request, the source, the region): what the byte budgets count before the view is made.
 */
const VIEW_HEADER_BYTES = 512;

export class ViewMaker {
  private readonly counts = { computed: 0, computedInline: 0, shared: 0, whole: 0, failed: 0, computeMs: 0 };
  /** Each value's bytes copied once into shared memory for the threads, while any of its views is computed. */
  private readonly shared = new WeakMap<FrameEntry, Uint8Array>();
  private closing = false;

  constructor(private readonly pool: ViewPool) {}

  get stats(): ViewStats {
    return { ...this.counts, pool: this.pool.stats() };
  }

  /**
   * The frame a page with `view` gets for `entry`: now (cached, sent whole, or computed inline), or
   * undefined when it is being computed — then `ready` is called with it later (never synchronously), once.
   * Cached on the topic while `entry` is its newest value (anything older is made for this page alone: it
   * cannot be asked for again).
   */
  resolve(topic: Topic | undefined, entry: FrameEntry, view: PeerView, ready: (frame: FrameEntry) => void): FrameEntry | undefined {
    const cacheable = topic !== undefined && topic.latest === entry;
    if (cacheable) {
      const hit = topic.views.get(view.key);
      if (hit !== undefined) {
        this.counts.shared += 1;
        if (hit.kind === 'frame') return hit;
        hit.waiters.push(ready);
        return undefined;
      }
    }
    const plan = this.plan(entry, view);
    if (plan === undefined) {
      this.counts.whole += 1;
      return entry;
    }
    let computed: ComputedView | Promise<ComputedView>;
    try {
      computed = this.pool.compute(this.sourceOf(entry), entry.header.dtype, plan, view.view.dtype);
    } catch {
      this.counts.failed += 1;
      return entry;
    }
    if (!(computed instanceof Promise)) {
      const made = this.frame(entry, view.view, plan, computed);
      if (cacheable) topic.views.set(view.key, made);
      return made;
    }
    const pending: PendingView = { kind: 'pending', waiters: [ready] };
    if (cacheable) topic.views.set(view.key, pending);
    computed.then(
      (values) => {
        const made = this.frame(entry, view.view, plan, values);
        if (topic?.views.get(view.key) === pending) topic.views.set(view.key, made);
        for (const waiter of pending.waiters) waiter(made);
      },
      () => {
        // The relay closed (nobody is waiting any more), or the math threw: the value goes whole.
        if (topic?.views.get(view.key) === pending) topic.views.delete(view.key);
        if (this.closing) return;
        this.counts.failed += 1;
        for (const waiter of pending.waiters) waiter(entry);
      },
    );
    return undefined;
  }

  /**
   * The bytes a page with `view` is sent for `entry`: the view's (its data, and headers estimated), or the
   * published frame's when it goes whole. What the byte budgets and the fair scheduler count before the
   * view exists.
   */
  bytes(topic: Topic | undefined, entry: FrameEntry, view: PeerView): number {
    if (topic !== undefined && topic.latest === entry) {
      const hit = topic.views.get(view.key);
      if (hit?.kind === 'frame') return hit.bytes;
    }
    const plan = this.plan(entry, view);
    return plan === undefined ? entry.bytes : entry.prefix.length + VIEW_HEADER_BYTES + viewDataBytes(plan, view.view.dtype);
  }

  /** Stops the threads; views in progress are dropped. */
  async close(): Promise<void> {
    this.closing = true;
    await this.pool.close();
  }

  private plan(entry: FrameEntry, view: PeerView): ViewPlan | undefined {
    const { header } = entry;
    return header.dtype === 'record' ? undefined : planView(header.shape, header.dtype, header.order, view.view);
  }

  /**
   * The value's bytes where a thread can read them: the published buffer itself when it is shared memory,
   * else one copy into a SharedArrayBuffer, made once per value and shared by all of its views.
   */
  private sourceOf(entry: FrameEntry): Uint8Array {
    const { data } = entry;
    if (this.pool.size === 0 || data.buffer instanceof SharedArrayBuffer) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    let copy = this.shared.get(entry);
    if (copy === undefined) {
      copy = new Uint8Array(new SharedArrayBuffer(data.byteLength));
      copy.set(data);
      this.shared.set(entry, copy);
    }
    return copy;
  }

  private frame(entry: FrameEntry, view: CanonicalArrayView, plan: ViewPlan, values: ComputedView): FrameEntry {
    const { header } = entry;
    const frameView: FrameView = {
      request: view,
      source: { shape: header.shape, dtype: header.dtype as FrameView['source']['dtype'] },
      region: plan.region,
      step: plan.step,
      ...(plan.resample === 'area' ? { resample: 'area' as const } : {}),
      ...(values.scale === undefined ? {} : { scale: values.scale, offset: values.offset }),
    };
    const init: FrameInit = {
      topic: header.topic,
      seq: header.seq,
      time: header.time,
      dtype: view.dtype,
      shape: plan.shape,
      ...(header.meta === undefined ? {} : { meta: header.meta }),
      view: frameView,
    };
    // The view's buffer came by transfer (or was made here): the frame wraps it, no copy.
    const data = Buffer.from(values.data.buffer, values.data.byteOffset, values.data.byteLength);
    const webmonHeader = encodeFrameHeader(init, data.byteLength);
    const prefix = Buffer.concat([frameHeader(Opcode.BINARY, webmonHeader.length + data.length), webmonHeader]);
    this.counts.computed += 1;
    if (values.inline) this.counts.computedInline += 1;
    this.counts.computeMs += values.ms;
    return { kind: 'frame', topic: entry.topic, seq: entry.seq, time: entry.time, prefix, data, bytes: prefix.length + data.length, header: init };
  }
}
