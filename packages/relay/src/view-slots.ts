/** The per-topic bookkeeping of array views (a page's view, a view in the making, a view's slot across values), apart from views.ts, so that topic.ts and views.ts do not import each other. */
import type { CanonicalArrayView } from '@webmon/protocol';
import type { FrameEntry } from './entries.js';
import type { ViewPlan } from './view-math.js';

/** A page's view of one topic: the canonical request and its key (equal views, equal keys). */
export interface PeerView {
  key: string;
  view: CanonicalArrayView;
}

/** A view of a value being computed (or queued to be, `started: false`), and the pages waiting for it. */
export interface PendingView {
  kind: 'pending';
  waiters: ((frame: FrameEntry) => void)[];
  started: boolean;
}

/**
 * One distinct view of a topic, across values: how many of its computations run now, and the value
 * queued to be computed ahead once they are done (at most one: a newer value replaces it).
 */
export interface ViewSlot {
  running: number;
  queued: { entry: FrameEntry; view: PeerView; plan: ViewPlan; pending: PendingView; deferred: boolean } | undefined;
  /**
   * The value whose computation started last, and its view (made, or in the making): what a page can be
   * sent sooner than a newer value still queued (`sooner`), after the topic moved on.
   */
  newest: { entry: FrameEntry; made: FrameEntry | PendingView } | undefined;
  /** Pacing (see `ViewMaker.ahead`): when a page last took a value of this view (ms, `performance.now()`). */
  takenAt: number | undefined;
  /** The time between takes, and a computation's time, smoothed (ms); undefined until measured. */
  takeEvery: number | undefined;
  computeMs: number | undefined;
  /** No view of this slot is made (or in the making) that no page has taken yet: one more may be computed ahead. */
  taken: boolean;
  /** A computation ahead put off until shortly before the next take is due. */
  timer: ReturnType<typeof setTimeout> | undefined;
}
