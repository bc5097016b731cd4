/** Zoom and pan arithmetic on a time range, apart from the DOM so it can be tested on its own. */

export interface ViewRange {
  fromMs: number;
  toMs: number;
}

/**
 * Fits `view` into `[loMs, hiMs]`: a span longer than the bounds becomes the bounds, and a range that sticks
 * out on one side is shifted back in (its span kept).
 */
export function clampView(view: ViewRange, loMs: number, hiMs: number): ViewRange {
  const bounds = hiMs - loMs;
  let span = view.toMs - view.fromMs;
  if (!(bounds > 0)) return view;
  if (span >= bounds) return { fromMs: loMs, toMs: hiMs };
  let fromMs = view.fromMs;
  if (fromMs < loMs) fromMs = loMs;
  if (fromMs + span > hiMs) fromMs = hiMs - span;
  span = Math.max(span, 0);
  return { fromMs, toMs: fromMs + span };
}

/**
 * Zooms `view` by `factor` (> 1 zooms out) around the time `anchorMs`, which stays at the same place on
 * screen; the span is kept within `[minSpanMs, maxSpanMs]`.
 */
export function zoomView(view: ViewRange, anchorMs: number, factor: number, minSpanMs: number, maxSpanMs: number): ViewRange {
  const span = view.toMs - view.fromMs;
  const next = Math.min(maxSpanMs, Math.max(minSpanMs, span * factor));
  const ratio = span > 0 ? (anchorMs - view.fromMs) / span : 1;
  const fromMs = anchorMs - ratio * next;
  return { fromMs, toMs: fromMs + next };
}

/** Moves `view` by `deltaMs` (positive: later). */
export function panView(view: ViewRange, deltaMs: number): ViewRange {
  return { fromMs: view.fromMs + deltaMs, toMs: view.toMs + deltaMs };
}
