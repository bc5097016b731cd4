/**
 * Which tiles are drawn, as a diff engine: seen tiles plus a sparse border of context tiles around them,
 * unioned over time for the current level (like the original viewer), reset on a level change.
 *
 * It knows nothing about three.js: it tells a `TileSink` which instance slots to fill or recolour, so the
 * work per update is proportional to what changed, not to the number of drawn tiles.
 */
import type { LevelLayout } from './level-layout.js';

/** Receives the instance changes; the three.js layer implements it with one `InstancedMesh`. */
export interface TileSink {
  /** Forget every instance (a new level, or a compaction when `maxTiles` is reached). */
  clear(): void;
  /** Slot `index` (always the current count) now shows tile (row, col). */
  add(index: number, row: number, col: number, seen: boolean): void;
  /** Slot `index` switched between seen and context. */
  setSeen(index: number, seen: boolean): void;
}

export interface TileSetOptions {
  /** Context tiles are drawn within this many tiles (Chebyshev distance) of a seen tile. */
  contextRadius: number;
  /** At most this many tiles are drawn; reaching it restarts the union from the current seen tiles. */
  maxTiles: number;
}

/** What one `applySeen` did, for stats and tests. */
export interface ApplyResult {
  /** Slots filled (new seen or context tiles). */
  added: number;
  /** Existing slots recoloured. */
  recolored: number;
  /** The union was restarted because it reached `maxTiles`. */
  compacted: boolean;
  /** Seen tiles that did not fit under `maxTiles` (0 unless `maxTiles` < seen tiles). */
  dropped: number;
}

export interface TileBounds {
  minRow: number;
  maxRow: number;
  minCol: number;
  maxCol: number;
}

export class TileSet {
  private readonly sink: TileSink;
  private readonly options: TileSetOptions;
  private layout: LevelLayout | null = null;
  /** Tile key (row * colsInTiles + col) → instance slot. */
  private readonly slots = new Map<number, number>();
  private seen = new Set<number>();
  private count = 0;
  private seenBounds: TileBounds | null = null;

  constructor(sink: TileSink, options: TileSetOptions) {
    this.sink = sink;
    this.options = options;
  }

  get size(): number {
    return this.count;
  }

  get seenCount(): number {
    return this.seen.size;
  }

  get level(): LevelLayout | null {
    return this.layout;
  }

  /** Bounding box of the seen tiles, or null when none. */
  get bounds(): TileBounds | null {
    return this.seenBounds;
  }

  /** Switches level; returns true (and clears everything) when the level is a different one. */
  setLevel(layout: LevelLayout | null): boolean {
    if (this.layout?.key === layout?.key) {
      this.layout = layout;
      return false;
    }
    this.layout = layout;
    this.reset();
    return true;
  }

  /** Drops every tile; the next `applySeen` starts a fresh union. */
  reset(): void {
    this.slots.clear();
    this.seen = new Set();
    this.count = 0;
    this.seenBounds = null;
    this.sink.clear();
  }

  isSeen(row: number, col: number): boolean {
    return this.layout !== null && this.seen.has(row * this.layout.colsInTiles + col);
  }

  isDrawn(row: number, col: number): boolean {
    return this.layout !== null && this.slots.has(row * this.layout.colsInTiles + col);
  }

  /**
   * Makes `seen` (flat `[row, col, …]`, already checked against the level) the seen set. Cost: O(seen) to
   * diff, plus O(new border) for the context of newly seen tiles.
   */
  applySeen(seenFlat: ArrayLike<number>, seenCount: number): ApplyResult {
    const layout = this.layout;
    const result: ApplyResult = { added: 0, recolored: 0, compacted: false, dropped: 0 };
    if (layout === null) return result;
    const cols = layout.colsInTiles;

    const next = new Set<number>();
    let bounds: TileBounds | null = null;
    for (let i = 0; i < seenCount; i++) {
      const row = seenFlat[2 * i] as number;
      const col = seenFlat[2 * i + 1] as number;
      next.add(row * cols + col);
      if (bounds === null) bounds = { minRow: row, maxRow: row, minCol: col, maxCol: col };
      else {
        if (row < bounds.minRow) bounds.minRow = row;
        if (row > bounds.maxRow) bounds.maxRow = row;
        if (col < bounds.minCol) bounds.minCol = col;
        if (col > bounds.maxCol) bounds.maxCol = col;
      }
    }
    this.seenBounds = bounds;

    for (const key of this.seen) {
      if (next.has(key)) continue;
      const slot = this.slots.get(key);
      if (slot !== undefined) {
        this.sink.setSeen(slot, false);
        result.recolored++;
      }
    }
    const fresh: number[] = [];
    for (const key of next) if (!this.seen.has(key)) fresh.push(key);
    this.seen = next;
    if (fresh.length === 0) return result;

    let full = false;
    for (const key of fresh) {
      const slot = this.slots.get(key);
      if (slot !== undefined) {
        this.sink.setSeen(slot, true);
        result.recolored++;
      } else if (this.count < this.options.maxTiles) {
        this.addSlot(key, layout, true);
        result.added++;
      } else {
        full = true;
        break;
      }
    }
    if (!full) full = !this.addBorder(fresh, layout, result);
    if (full) this.compact(layout, result);
    return result;
  }

  /** Restarts the union from the current seen tiles: seen first, then their border while room is left. */
  private compact(layout: LevelLayout, result: ApplyResult): void {
    const seen = this.seen;
    this.slots.clear();
    this.count = 0;
    this.sink.clear();
    result.compacted = true;
    result.added = 0;
    result.recolored = 0;
    const kept: number[] = [];
    for (const key of seen) {
      if (this.count >= this.options.maxTiles) {
        result.dropped++;
        continue;
      }
      this.addSlot(key, layout, true);
      kept.push(key);
      result.added++;
    }
    this.addBorder(kept, layout, result);
  }

  private addSlot(key: number, layout: LevelLayout, seen: boolean): void {
    const row = Math.floor(key / layout.colsInTiles);
    const col = key - row * layout.colsInTiles;
    const slot = this.count++;
    this.slots.set(key, slot);
    this.sink.add(slot, row, col, seen);
  }

  /**
   * Adds the context tiles within `contextRadius` of `keys`. Works row by row on merged column intervals, so a
   * block of n seen tiles costs about the size of its dilation rather than n * (2r + 1)^2 look-ups.
   * Returns false when `maxTiles` stopped it.
   */
  private addBorder(keys: readonly number[], layout: LevelLayout, result: ApplyResult): boolean {
    const radius = this.options.contextRadius;
    if (radius === 0 || keys.length === 0) return true;
    const cols = layout.colsInTiles;
    const lastRow = layout.rowsInTiles - 1;
    const lastCol = cols - 1;

    const colsByRow = new Map<number, number[]>();
    for (const key of keys) {
      const row = Math.floor(key / cols);
      const list = colsByRow.get(row);
      if (list) list.push(key - row * cols);
      else colsByRow.set(row, [key - row * cols]);
    }
    const sourceRows = [...colsByRow.keys()].sort((a, b) => a - b);
    // Per source row: merged, clipped column intervals [start, end] of its dilation, flat.
    const intervalsByRow = new Map<number, number[]>();
    for (const row of sourceRows) {
      const list = (colsByRow.get(row) as number[]).sort((a, b) => a - b);
      const merged: number[] = [];
      for (const col of list) {
        const start = Math.max(0, col - radius);
        const end = Math.min(lastCol, col + radius);
        const n = merged.length;
        if (n > 0 && start <= (merged[n - 1] as number) + 1) merged[n - 1] = Math.max(merged[n - 1] as number, end);
        else merged.push(start, end);
      }
      intervalsByRow.set(row, merged);
    }

    let lo = 0;
    let hi = 0;
    let nextTarget = 0;
    const window: number[] = [];
    for (const sourceRow of sourceRows) {
      const firstTarget = Math.max(nextTarget, sourceRow - radius, 0);
      const lastTarget = Math.min(sourceRow + radius, lastRow);
      for (let target = firstTarget; target <= lastTarget; target++) {
        while (lo < sourceRows.length && (sourceRows[lo] as number) < target - radius) lo++;
        if (hi < lo) hi = lo;
        while (hi < sourceRows.length && (sourceRows[hi] as number) <= target + radius) hi++;
        window.length = 0;
        for (let i = lo; i < hi; i++) {
          const intervals = intervalsByRow.get(sourceRows[i] as number) as number[];
          for (let j = 0; j < intervals.length; j++) window.push(intervals[j] as number);
        }
        if (!this.fillRow(target, window, layout, result)) return false;
      }
      nextTarget = Math.max(nextTarget, lastTarget + 1);
    }
    return true;
  }

  /** Adds the not-yet-drawn tiles of `target` covered by the union of the flat intervals in `window`. */
  private fillRow(target: number, window: number[], layout: LevelLayout, result: ApplyResult): boolean {
    const pairs: [number, number][] = [];
    for (let i = 0; i < window.length; i += 2) pairs.push([window[i] as number, window[i + 1] as number]);
    if (pairs.length > 1) pairs.sort((a, b) => a[0] - b[0]);
    const rowBase = target * layout.colsInTiles;
    let covered = -1;
    for (const [start, end] of pairs) {
      for (let col = Math.max(start, covered + 1); col <= end; col++) {
        const key = rowBase + col;
        if (this.slots.has(key)) continue;
        if (this.count >= this.options.maxTiles) return false;
        this.addSlot(key, layout, false);
        result.added++;
      }
      if (end > covered) covered = end;
    }
    return true;
  }
}
