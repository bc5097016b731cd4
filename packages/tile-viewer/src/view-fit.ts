/** The 2-D camera as plain numbers: what part of content space the canvas shows. Pure math. */
import type { Rect } from './level-layout.js';

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
