/**
 * Array views (protocol 1.3) on the relay's side: the frame a page that asked for a view gets instead of
 * the published one.
 *
 * Cost: at most one computation per distinct view per published value. Computed ahead (1.5): when a value
 * is published, its view is started at once for each distinct view its pages ask (`ahead`), while the
 * pages still hold the previous value — so when a page acknowledges, the next view is ready (or nearly)
 * instead of being computed only then (ack round trip + computation, serially, per value). At most one
 * computation ahead per distinct view: while one runs, the newest value waits its turn, and a newer value
 * replaces it unstarted — so a producer faster than the computation costs one thread's time, not a queue.
 * A page that asks a value nobody started (a view just changed, a thread-less relay) starts it itself.
 * Computations run on a thread of the view pool (`view-pool.ts`); each is framed (WebSocket header +
 * webmon header, once) when it comes back; every page with the same view key waits on the same
 * computation or takes the finished buffers from the topic's cache, which is emptied when the next value
 * is published, so it holds at most one value's views — as many as there are distinct views among the
 * subscribers. A computation started for a value the topic has since replaced still finishes for the
 * pages that wait on it (they were promised that value); nobody else can ask for it any more.
 */
import { encodeFrameHeader, type CanonicalArrayView, type FrameInit, type FrameView } from '@webmon/protocol';
import type { FrameEntry } from './entries.js';
import { planView, viewDataBytes, type ViewPlan } from './view-math.js';
import { ViewPool, type ComputedView, type ViewPoolStats } from './view-pool.js';
import { holdEntry, letGo } from './frame-hold.js';
import type { Topic } from './topic.js';
import type { PeerView, PendingView, ViewSlot } from './view-slots.js';
import { Opcode, frameHeader } from './ws-frame.js';

/** What views cost since the relay started (`relay.stats().views`). */
export interface ViewStats {
  /** Views computed: one per distinct view per published value a page took or that was computed ahead. */
  computed: number;
  /**
   * Of those, started when the value was published, before any page asked (1.5): the view of the newest
   * value, computed while the pages still hold the previous one, so it is ready when their acks come.
   */
  computedAhead: number;
  /** Values queued to be computed ahead and replaced by a newer one before their turn (never computed). */
  replacedAhead: number;
  /**
   * Computations ahead put off (pacing): the pages of that view took values more slowly than they were
   * published, so the view of the newest value is started shortly before the next take is due rather than
   * at once — or not at all while the last one made is not taken yet.
   */
  deferredAhead: number;
  /**
   * Frames sent of a value older than the topic's newest, because its view was made or in the making while
   * the newest one's waited its turn (still newer than what the page had): sooner than waiting for both.
   */
  sentSooner: number;
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
  /**
   * Values copied into shared memory for the threads (once per value whose view is computed on a thread,
   * unless it was published in shared memory), and of those, copies made into a buffer reused from an
   * older value of the topic (no new memory).
   */
  sourceCopies: number;
  sourceCopiesReused: number;
  /** The threads views are computed on. */
  pool: ViewPoolStats;
}

/**
 * Roughly the bytes the WebSocket and webmon headers of a view frame take beyond the published frame's
 * (the `view` field: the request, the source, the region): what the byte budgets count before the view is made.
 */
const VIEW_HEADER_BYTES = 512;

/** A value's bytes in shared memory, and how many computations read them now. */
interface SharedCopy {
  bytes: Uint8Array;
  readers: number;
  /** The value is no longer its topic's newest: the copy goes back to `SharedCopies` once nobody reads it. */
  retired: boolean;
  /** Made here (not the published buffer itself). */
  owned: boolean;
}

/**
 * SharedArrayBuffers reused by size for the values' copies. Why: a new 4 MiB SharedArrayBuffer per value of a
 * 60 Hz image topic is 240 MB/s of new external memory on the event loop, and external memory is what starts
 * V8's full garbage collections — pauses every small topic on the relay waits behind. An image stream of one
 * size then copies into the same two or three buffers.
 */
class SharedCopies {
  private readonly free = new Map<number, Uint8Array[]>();
  private freeBytes = 0;
  reused = 0;

  take(byteLength: number): Uint8Array {
    const reused = this.free.get(byteLength)?.pop();
    if (reused !== undefined) {
      this.freeBytes -= byteLength;
      this.reused += 1;
      return reused;
    }
    return new Uint8Array(new SharedArrayBuffer(byteLength));
  }

  release(bytes: Uint8Array): void {
    const list = this.free.get(bytes.byteLength) ?? [];
    if (list.length >= SHARED_COPIES_PER_SIZE || this.freeBytes + bytes.byteLength > SHARED_COPIES_MAX_BYTES) return;
    list.push(bytes);
    this.free.set(bytes.byteLength, list);
    this.freeBytes += bytes.byteLength;
  }
}

/**
 * Pacing (see `ViewMaker.ahead`): a computation ahead starts this share of the take interval after the last
 * take, less its own expected time and a lead — ready a little before the next take is due. A take gap longer
 * than the cap (a page in the background) counts as the cap; takes and computations are smoothed by SMOOTHING.
 */
const PACE_SHARE = 0.9;
/** Paced only when the takes are at least this many computations apart (else every value is computed ahead). */
const PACE_FROM_COMPUTATIONS = 3;
/** No take for this many take intervals (and this long), with a view made and not taken: the pages stopped taking. */
const STALLED_AFTER_TAKES = 4;
const STALLED_AFTER_MS = 500;
const PACE_LEAD_MS = 4;
const TAKE_GAP_CAP_MS = 1000;
const SMOOTHING = 0.25;

const smoothed = (previous: number | undefined, sample: number): number => (previous === undefined ? sample : previous + SMOOTHING * (sample - previous));

/** A page takes a value of the slot's view now. */
function took(slot: ViewSlot): void {
  const now = performance.now();
  if (slot.takenAt !== undefined) slot.takeEvery = smoothed(slot.takeEvery, Math.min(now - slot.takenAt, TAKE_GAP_CAP_MS));
  slot.takenAt = now;
  slot.taken = true;
}

/** Free shared copies kept: at most this many of one size, and this many bytes in all. */
const SHARED_COPIES_PER_SIZE = 2;
const SHARED_COPIES_MAX_BYTES = 64 * 2 ** 20;

export class ViewMaker {
  private readonly counts = { computed: 0, computedAhead: 0, replacedAhead: 0, deferredAhead: 0, sentSooner: 0, computedInline: 0, shared: 0, whole: 0, failed: 0, computeMs: 0, sourceCopies: 0, sourceCopiesReused: 0 };
  /** Each value's bytes copied once into shared memory for the threads, while any of its views is computed. */
  private readonly shared = new WeakMap<FrameEntry, SharedCopy>();
  /** Shared copies a topic's value no longer needs, kept to copy the next values into (see `SharedCopies`). */
  private readonly copies = new SharedCopies();
  /** Each topic's value whose views were last started ahead: when the next comes, its copy can be reused. */
  private readonly lastAhead = new WeakMap<Topic, FrameEntry>();
  private closing = false;

  constructor(private readonly pool: ViewPool) {}

  get stats(): ViewStats {
    return { ...this.counts, sourceCopiesReused: this.copies.reused, pool: this.pool.stats() };
  }

  /**
   * The frame a page with `view` gets for `entry`: now (cached, sent whole, or computed inline), or
   * undefined when it is being computed — then `ready` is called with it later (never synchronously), once.
   * Cached on the topic while `entry` is its newest value (anything older is made for this page alone: it
   * cannot be asked for again).
   */
  resolve(topic: Topic | undefined, entry: FrameEntry, view: PeerView, ready: (frame: FrameEntry) => void): FrameEntry | undefined {
    const slot = topic?.viewSlots.get(view.key);
    if (slot !== undefined) took(slot);
    const frame = this.resolveNow(topic, entry, view, ready);
    // A take may let the next computation ahead go (or set when it should).
    if (topic !== undefined && slot !== undefined) this.pace(topic, view.key);
    return frame;
  }

  private resolveNow(topic: Topic | undefined, entry: FrameEntry, view: PeerView, ready: (frame: FrameEntry) => void): FrameEntry | undefined {
    const cacheable = topic !== undefined && topic.latest === entry;
    if (cacheable) {
      const hit = topic.views.get(view.key);
      if (hit !== undefined) {
        this.counts.shared += 1;
        if (hit.kind === 'frame') return hit;
        hit.waiters.push(ready);
        // Queued ahead and put off (pacing): a page waits on it now.
        if (!hit.started) this.startQueued(topic, view.key);
        return undefined;
      }
    }
    const newest = topic?.viewSlots.get(view.key)?.newest;
    if (!cacheable && newest !== undefined && newest.entry === entry) {
      // A value sent sooner (see `sooner`): its view is made, or in the making.
      this.counts.shared += 1;
      if (newest.made.kind === 'frame') return newest.made;
      newest.made.waiters.push(ready);
      return undefined;
    }
    const plan = this.plan(entry, view);
    if (plan === undefined) {
      this.counts.whole += 1;
      return entry;
    }
    const pending: PendingView = { kind: 'pending', waiters: [ready], started: false };
    return this.start(cacheable ? topic : undefined, entry, view, plan, pending, true);
  }

  /**
   * A value to send instead of `entry` (the topic's newest) to a page that has seq `after`: when `entry`'s
   * view is not started (it waits its turn behind a computation ahead), the value that computation is for —
   * if it is newer than `after` — is ready sooner. Undefined: send `entry`.
   */
  sooner(topic: Topic | undefined, entry: FrameEntry, view: PeerView, after: number): FrameEntry | undefined {
    if (topic === undefined || topic.latest !== entry) return undefined;
    const own = topic.views.get(view.key);
    if (own !== undefined && (own.kind === 'frame' || own.started)) return undefined;
    const newest = topic.viewSlots.get(view.key)?.newest;
    if (newest === undefined || newest.entry === entry || newest.entry.seq <= after || newest.entry.seq >= entry.seq) return undefined;
    this.counts.sentSooner += 1;
    return newest.entry;
  }

  /**
   * A value was just published on `topic` (a binary latest topic): starts the view of it for each distinct
   * view its pages ask (`views`), before any of them can take it — a page still holding the previous value
   * finds the next one computed, or computing, when its acknowledgement comes. At most one computation
   * ahead per distinct view: while one runs, the newest value waits its turn (a newer one replaces it, never
   * computed). The views are cached on the topic like any other, so every page with the same view shares
   * them.
   *
   * Paced: when the pages of a view take values more slowly than they are published (a page at 20 Hz
   * on a 60 Hz image), computing every value ahead spends a thread's whole time on views nobody takes — on
   * a 2-core machine, a core the page and its producer then lack. So once a view's takes have been timed,
   * and when they are at least three computations apart, its next computation ahead starts shortly before
   * the next take is due (`pace`), from the value newest then: one computation per take, and the view a
   * page gets is as fresh as that allows. None starts while the last one made is not taken yet, nor (at
   * any pace) once the pages have stopped taking: a page that stopped acknowledging costs nothing. A page
   * that asks a value queued and put off starts it at once.
   */
  ahead(topic: Topic, entry: FrameEntry, views: ReadonlyMap<string, PeerView>): void {
    const previous = this.lastAhead.get(topic);
    this.lastAhead.set(topic, entry);
    if (previous !== undefined && previous !== entry) this.retire(previous);
    for (const view of views.values()) {
      if (topic.latest !== entry || topic.views.has(view.key)) continue;
      const plan = this.plan(entry, view);
      if (plan === undefined) continue;
      let slot = topic.viewSlots.get(view.key);
      if (slot === undefined) {
        slot = { running: 0, queued: undefined, newest: undefined, takenAt: undefined, takeEvery: undefined, computeMs: undefined, taken: true, timer: undefined };
        topic.viewSlots.set(view.key, slot);
      }
      const previous = slot.queued;
      slot.queued = undefined;
      if (previous !== undefined) {
        // A page already waits on the value queued (it was the newest when it asked): it was promised it.
        if (previous.pending.waiters.length > 0) this.start(topic, previous.entry, previous.view, previous.plan, previous.pending);
        else this.counts.replacedAhead += 1;
        letGo(previous.entry); // the queue's hold (a computation started holds it on its own)
      }
      const pending: PendingView = { kind: 'pending', waiters: [], started: false };
      holdEntry(entry);
      slot.queued = { entry, view, plan, pending, deferred: false };
      topic.views.set(view.key, pending);
      this.pace(topic, view.key);
    }
    // Views nobody asks any more: their slots go (what runs still finishes for its waiters).
    for (const [key, slot] of topic.viewSlots) {
      if (views.has(key) || slot.running > 0) continue;
      topic.viewSlots.delete(key);
      clearTimeout(slot.timer);
      letGo(slot.queued?.entry);
      letGo(slot.newest?.entry);
    }
  }

  /**
   * Computes `entry` in `view` for `pending`'s waiters; cached on `topic` (when given) while `entry` is its
   * newest value. `caller`: a page asks now and takes what is returned — the frame when it was computed
   * inline (or the value whole when it could not be), undefined when its `ready` (the first waiter) will be
   * called later. Otherwise (ahead) every waiter is called, never synchronously.
   */
  private start(topic: Topic | undefined, entry: FrameEntry, view: PeerView, plan: ViewPlan, pending: PendingView, caller = false): FrameEntry | undefined {
    pending.started = true;
    let computed: ComputedView | Promise<ComputedView>;
    const copy = this.sourceOf(entry);
    try {
      computed = this.pool.compute(copy.bytes, entry.header.dtype, plan, view.view.dtype);
    } catch {
      this.done(copy);
      this.counts.failed += 1;
      if (topic?.views.get(view.key) === pending) topic.views.delete(view.key);
      if (caller) return entry;
      holdEntry(entry); // its waiters are sent the value whole, after this returns
      queueMicrotask(() => {
        this.settle(pending, entry);
        letGo(entry);
      });
      return undefined;
    }
    if (!(computed instanceof Promise)) {
      this.done(copy);
      // Inline (no thread): only ever a page asking now, or ahead with nobody waiting yet.
      const made = this.frame(entry, view.view, plan, computed);
      if (topic !== undefined && topic.latest === entry) topic.views.set(view.key, made);
      if (!caller && pending.waiters.length > 0) queueMicrotask(() => this.settle(pending, made));
      return made;
    }
    if (topic !== undefined && topic.latest === entry) topic.views.set(view.key, pending);
    const slot = topic?.viewSlots.get(view.key);
    if (slot !== undefined) {
      slot.running += 1;
      // Made for no page yet (ahead): until one takes it, no other starts ahead (`pace`).
      if (!caller && pending.waiters.length === 0) slot.taken = false;
      if (slot.newest === undefined || slot.newest.entry.seq < entry.seq) {
        // Held: a page may yet be sent this value (`sooner`), which it takes from here.
        holdEntry(entry);
        letGo(slot.newest?.entry);
        slot.newest = { entry, made: pending };
      }
    }
    // The computation reads the value (when it lives in shared memory), and a failure sends it whole.
    holdEntry(entry);
    computed.then(
      (values) => {
        this.done(copy);
        if (slot !== undefined) slot.computeMs = smoothed(slot.computeMs, values.ms);
        const made = this.frame(entry, view.view, plan, values);
        if (topic?.views.get(view.key) === pending) topic.views.set(view.key, made);
        if (slot?.newest?.made === pending) slot.newest.made = made;
        this.settle(pending, made);
        letGo(entry);
        this.next(topic, view.key, slot);
      },
      () => {
        this.done(copy);
        // The relay closed (nobody is waiting any more), or the math threw: the value goes whole.
        if (topic?.views.get(view.key) === pending) topic.views.delete(view.key);
        if (slot?.newest?.made === pending) {
          letGo(slot.newest.entry);
          slot.newest = undefined;
        }
        if (this.closing) {
          letGo(entry);
          return;
        }
        this.counts.failed += 1;
        this.settle(pending, entry);
        letGo(entry);
        this.next(topic, view.key, slot);
      },
    );
    return undefined;
  }

  private settle(pending: PendingView, frame: FrameEntry): void {
    for (const waiter of pending.waiters) waiter(frame);
  }

  /** A computation of a slot is done: the value queued ahead of it starts (when `pace` says), if it is still the newest. */
  private next(topic: Topic | undefined, key: string, slot: ViewSlot | undefined): void {
    if (slot !== undefined) slot.running -= 1;
    if (topic !== undefined) this.pace(topic, key);
  }

  /**
   * Starts the slot's queued value now, or when it is due (see `ahead`): at once when a page waits on it,
   * the slot's takes and computations are not timed yet, or takes come less than three computations apart;
   * else shortly before the next take is due, and not while the view made last is not taken; never while
   * the pages have stopped taking (none for four take intervals and 500 ms).
   */
  private pace(topic: Topic, key: string): void {
    const slot = topic.viewSlots.get(key);
    if (slot === undefined || slot.running > 0 || slot.queued === undefined || this.closing) return;
    if (slot.queued.pending.waiters.length > 0 || slot.takeEvery === undefined || slot.takenAt === undefined || slot.computeMs === undefined) {
      this.startQueued(topic, key);
      return;
    }
    const now = performance.now();
    // Pages that stopped taking (a stalled or hidden page): nothing more until one takes again. Not sooner
    // than STALLED_AFTER_MS: a fast page's takes jitter by several intervals (chunked frames, a busy page).
    const stalled = !slot.taken && now - slot.takenAt > Math.max(STALLED_AFTER_TAKES * slot.takeEvery, STALLED_AFTER_MS);
    // Takes less than three computations apart: computing every value wastes little, and pacing cost pages
    // frames there (`bench:image`, paced from two computations apart: a uint16 view page at 1.4–1.5
    // computations per take got 9 % fewer frames, in each of five runs).
    if (!stalled && slot.takeEvery < PACE_FROM_COMPUTATIONS * slot.computeMs) {
      this.startQueued(topic, key);
      return;
    }
    const wait = slot.taken && !stalled ? slot.takenAt + PACE_SHARE * slot.takeEvery - slot.computeMs - PACE_LEAD_MS - now : Infinity;
    if (wait <= 0) {
      this.startQueued(topic, key);
      return;
    }
    if (!slot.queued.deferred) {
      slot.queued.deferred = true;
      this.counts.deferredAhead += 1;
    }
    // Set again on every call: a take since the last one moves the due time.
    clearTimeout(slot.timer);
    slot.timer = undefined;
    if (wait === Infinity) return; // a take calls `pace` again
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      this.pace(topic, key);
    }, wait);
    slot.timer.unref?.();
  }

  /** The slot's queued value starts now, if it is still the newest and nothing of the slot runs. */
  private startQueued(topic: Topic, key: string): void {
    const slot = topic.viewSlots.get(key);
    if (slot === undefined || slot.running > 0 || slot.queued === undefined) return;
    clearTimeout(slot.timer);
    slot.timer = undefined;
    const { entry, view, plan, pending } = slot.queued;
    slot.queued = undefined;
    if (topic.views.get(key) === pending) {
      this.counts.computedAhead += 1;
      this.start(topic, entry, view, plan, pending);
    } // else replaced meanwhile (a newer value is queued or running)
    letGo(entry); // the queue's hold (the computation started holds it on its own)
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
   * else one copy into a SharedArrayBuffer, made once per value and shared by all of its views. Counts one
   * more computation reading it: `done` when that one is over.
   */
  private sourceOf(entry: FrameEntry): SharedCopy {
    const { data } = entry;
    if (this.pool.size === 0 || data.buffer instanceof SharedArrayBuffer) return { bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), readers: 1, retired: false, owned: false };
    let copy = this.shared.get(entry);
    if (copy === undefined) {
      copy = { bytes: this.copies.take(data.byteLength), readers: 0, retired: false, owned: true };
      this.counts.sourceCopies += 1;
      copy.bytes.set(data);
      this.shared.set(entry, copy);
    }
    copy.readers += 1;
    return copy;
  }

  /** A computation reading `copy` is over; a copy no value needs any more serves the next one. */
  private done(copy: SharedCopy): void {
    copy.readers -= 1;
    if (copy.readers === 0 && copy.retired && copy.owned) this.copies.release(copy.bytes);
  }

  /**
   * `entry` is no longer its topic's newest value: no computation ahead will start for it, and one a page
   * still asks (a value it was promised) makes a copy of its own. Its copy is reused once the computations
   * reading it are over.
   */
  private retire(entry: FrameEntry): void {
    const copy = this.shared.get(entry);
    if (copy === undefined) return;
    this.shared.delete(entry);
    copy.retired = true;
    if (copy.readers === 0 && copy.owned) this.copies.release(copy.bytes);
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
