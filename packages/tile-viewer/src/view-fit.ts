/**
 * The 2-D camera as plain numbers: what part of content space the canvas shows, how it moves (pan, zoom
 * about a point, clamp) and which fit it keeps (the whole level, the seen tiles) across resizes and level
 * changes. Pure math, no three.js and no DOM, so every decision is tested in Node (test/view-fit.test.ts).
 */
import { levelRect, type LevelLayout, type Rect } from './level-layout.js';
import type { TileBounds } from './tile-set.js';

export interface ViewState {
  /** Content-space point at the canvas centre (x right, y down; the level's longer side is 1). */
  centerX: number;
  centerY: number;
  /** CSS pixels per content unit. */
  scale: number;
}

/** Scale limits relative to the canvas' shorter side: from "the level is a dot" to "a pixel of a 2^31-tile level". */
export const MIN_RELATIVE_SCALE = 0.01;
export const MAX_RELATIVE_SCALE = 1e9;

export function clampScale(scale: number, width: number, height: number): number {
  const side = Math.max(1, Math.min(width, height));
  return Math.min(Math.max(scale, side * MIN_RELATIVE_SCALE), side * MAX_RELATIVE_SCALE);
}

/** Space to keep free around a fitted rectangle, in CSS pixels (e.g. under the built-in controls). */
export interface Insets {
  top: number;
  right: number;
  bottom: number;
  left: number;
}

/**
 * The view that shows `rect` whole and centred in the canvas minus `insets`, with `margin` (a fraction of the
 * canvas) around it.
 */
export function fitRect(rect: Rect, width: number, height: number, margin = 0.05, insets: Insets = { top: 0, right: 0, bottom: 0, left: 0 }): ViewState {
  const w = Math.max(rect.x1 - rect.x0, 1e-12);
  const h = Math.max(rect.y1 - rect.y0, 1e-12);
  const pad = Math.min(width, height) * margin;
  const left = insets.left + pad;
  const top = insets.top + pad;
  const usableW = Math.max(1, width - left - insets.right - pad);
  const usableH = Math.max(1, height - top - insets.bottom - pad);
  const scale = clampScale(Math.min(usableW / w, usableH / h), width, height);
  // Centre of the usable area, in canvas pixels, mapped back to the rectangle's centre.
  const cx = left + usableW / 2;
  const cy = top + usableH / 2;
  return {
    centerX: (rect.x0 + rect.x1) / 2 - (cx - width / 2) / scale,
    centerY: (rect.y0 + rect.y1) / 2 - (cy - height / 2) / scale,
    scale,
  };
}

/** Canvas CSS pixel (from its top-left) → content point. */
export function canvasToContent(view: ViewState, width: number, height: number, px: number, py: number): [number, number] {
  return [view.centerX + (px - width / 2) / view.scale, view.centerY + (py - height / 2) / view.scale];
}

/** Content point → canvas CSS pixel (from its top-left). */
export function contentToCanvas(view: ViewState, width: number, height: number, x: number, y: number): [number, number] {
  return [(x - view.centerX) * view.scale + width / 2, (y - view.centerY) * view.scale + height / 2];
}

/** Zooms by `factor` keeping the content point under canvas pixel (px, py) in place. */
export function zoomAt(view: ViewState, width: number, height: number, factor: number, px: number, py: number): ViewState {
  const [x, y] = canvasToContent(view, width, height, px, py);
  const scale = clampScale(view.scale * factor, width, height);
  return { centerX: x - (px - width / 2) / scale, centerY: y - (py - height / 2) / scale, scale };
}

export function panBy(view: ViewState, dx: number, dy: number): ViewState {
  return { centerX: view.centerX - dx / view.scale, centerY: view.centerY - dy / view.scale, scale: view.scale };
}

/** Union of two rectangles, either of which may be missing. */
export function unionRect(a: Rect | null, b: Rect | null): Rect | null {
  if (a === null) return b;
  if (b === null) return a;
  return { x0: Math.min(a.x0, b.x0), y0: Math.min(a.y0, b.y0), x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1) };
}

/**
 * How the view was last fitted: `'level'` (the whole level: the start, and after a reset), `'seen'` (the seen
 * tiles and the frustum, after a fit), or null once the user (or `setView`) moved it since: a view we must
 * never take away from them.
 */
export type ViewFit = 'level' | 'seen' | null;

/** The canvas in CSS pixels, and the part of it a fitted rectangle must keep clear. */
export interface Viewport {
  width: number;
  height: number;
  insets: Insets;
}

/** Margin around a fitted rectangle, as a fraction of the canvas' shorter side. */
export const FIT_MARGIN = 0.05;

/** Stands in for the level before there is one, so the view has a sensible scale from the start. */
const UNIT_SQUARE: Rect = { x0: 0, y0: 0, x1: 1, y1: 1 };

/** The whole level (the unit square before any level is shown). */
export function levelView(layout: LevelLayout | null, viewport: Viewport): ViewState {
  return fitRect(layout === null ? UNIT_SQUARE : levelRect(layout), viewport.width, viewport.height, FIT_MARGIN, viewport.insets);
}

/**
 * The seen tiles (the bounds of the tiles napari draws) plus the frustum; the whole level when there is
 * neither.
 */
export function seenView(layout: LevelLayout | null, seen: TileBounds | null, frustum: Rect | null, viewport: Viewport): ViewState {
  let rect: Rect | null = null;
  if (seen !== null && layout !== null) {
    const s = layout.tileSize * layout.levelScale;
    rect = { x0: seen.minCol * s, y0: seen.minRow * s, x1: (seen.maxCol + 1) * s, y1: (seen.maxRow + 1) * s };
  }
  rect = unionRect(rect, frustum);
  return rect === null ? levelView(layout, viewport) : fitRect(rect, viewport.width, viewport.height, FIT_MARGIN, viewport.insets);
}

/**
 * The view after the canvas changed size: until the user moves or fits it, it keeps showing the whole level;
 * after that its centre and zoom stay (only clamped to the new size's limits).
 */
export function resizedView(view: ViewState, fit: ViewFit, layout: LevelLayout | null, viewport: Viewport): ViewState {
  if (fit === 'level') return levelView(layout, viewport);
  return { ...view, scale: clampScale(view.scale, viewport.width, viewport.height) };
}

/**
 * What to fit when the shown level (or layer) changes, or null to keep the view. The first level always
 * replaces the placeholder view, and as a whole level (there were no seen tiles to fit before it); later
 * levels are fitted the way the view was last fitted, only with `fitOnLevelChange` on, and never once the
 * user has moved the view.
 */
export function fitOnLevelChange(fit: ViewFit, fitOnLevelChangeOption: boolean, firstLevel: boolean): 'level' | 'seen' | null {
  if (fit === null || !(fitOnLevelChangeOption || firstLevel)) return null;
  return fit === 'seen' && !firstLevel ? 'seen' : 'level';
}
