/**
 * Array views (protocol 1.3) on the relay's side: the frame a page that asked for a view gets instead of
 * the published one.
 *
 * Cost: one computation per distinct view per published value, and only if a page with that view is
 * ready to take the value. A peer resolves its view when it writes a frame (`Peer.write`), not when the
 * value is published: a value coalesced away while the page's socket was backed up or its credit window
 * full is never computed. The first page to write a value in a view computes it (`view-math.ts`) and
 * frames it (WebSocket header + webmon header, once); every other page with the same view key takes the
 * same buffers from the topic's cache, which is emptied when the next value is published, so it holds at
 * most one value's views — as many as there are distinct views among the subscribers.
 */
import { performance } from 'node:perf_hooks';
import { encodeFrameHeader, type CanonicalArrayView, type FrameInit, type FrameView } from '@webmon/protocol';
import { computeView, planView } from './view-math.js';
import type { FrameEntry, Topic } from './topic.js';
import { Opcode, frameHeader } from './ws-frame.js';

/** A page's view of one topic: the canonical request and its key (equal views, equal keys). */
export interface PeerView {
  key: string;
  view: CanonicalArrayView;
}

/** What views cost since the relay started (`relay.stats().views`). */
export interface ViewStats {
  /** Views computed: one per distinct view per published value a page took. */
  computed: number;
  /** Frames taken from the cache: a view another page had already caused to be computed for that value. */
  shared: number;
  /** Values sent whole to a page that asked for a view: the array is not an image (1-D, 4-D, complex, Fortran order…). */
  whole: number;
  /** Time spent computing views, ms. */
  computeMs: number;
}

export class ViewMaker {
  readonly stats: ViewStats = { computed: 0, shared: 0, whole: 0, computeMs: 0 };

  /**
   * The frame a page with `view` gets for `entry`. Cached on the topic while `entry` is its newest value
   * (anything older is made for this page alone: it cannot be asked for again).
   */
  resolve(topic: Topic | undefined, entry: FrameEntry, view: PeerView): FrameEntry {
    const cacheable = topic !== undefined && topic.latest === entry;
    if (cacheable) {
      const hit = topic.views.get(view.key);
      if (hit !== undefined) {
        this.stats.shared += 1;
        return hit;
      }
    }
    const made = this.make(entry, view.view);
    if (cacheable) topic.views.set(view.key, made);
    return made;
  }

  private make(entry: FrameEntry, view: CanonicalArrayView): FrameEntry {
    const { header } = entry;
    const { dtype } = header;
    const plan = dtype === 'record' ? undefined : planView(header.shape, dtype, header.order, view);
    if (dtype === 'record' || plan === undefined) {
      this.stats.whole += 1;
      return entry;
    }
    const started = performance.now();
    const bytes = new Uint8Array(entry.data.buffer, entry.data.byteOffset, entry.data.byteLength);
    const values = computeView(bytes, dtype, plan, view.dtype);
    const frameView: FrameView = {
      request: view,
      source: { shape: header.shape, dtype },
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
    const data = Buffer.from(values.data.buffer, values.data.byteOffset, values.data.byteLength);
    const webmonHeader = encodeFrameHeader(init, data.byteLength);
    const prefix = Buffer.concat([frameHeader(Opcode.BINARY, webmonHeader.length + data.length), webmonHeader]);
    this.stats.computed += 1;
    this.stats.computeMs += performance.now() - started;
    return { kind: 'frame', topic: entry.topic, seq: entry.seq, time: entry.time, prefix, data, bytes: prefix.length + data.length, header: init };
  }
}
