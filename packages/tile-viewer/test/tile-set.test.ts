import { describe, expect, it } from 'vitest';
import { layoutLevel, type LevelLayout } from '../src/level-layout.js';
import { TileSet, type TileSink } from '../src/tile-set.js';
import { LEVEL0, LEVEL1, block } from './fixtures.js';

/** Keeps what a renderer would draw: slot → tile, so the picture can be compared with a brute-force model. */
class PictureSink implements TileSink {
  slots: { row: number; col: number; seen: boolean }[] = [];
  adds = 0;
  recolors = 0;
  clears = 0;
  clear(): void {
    this.slots = [];
    this.clears++;
  }
  add(index: number, row: number, col: number, seen: boolean): void {
    expect(index).toBe(this.slots.length);
    this.slots.push({ row, col, seen });
    this.adds++;
  }
  setSeen(index: number, seen: boolean): void {
    const slot = this.slots[index];
    if (!slot) throw new Error(`no slot ${index}`);
    slot.seen = seen;
    this.recolors++;
  }
  picture(): Map<string, boolean> {
    const map = new Map<string, boolean>();
    for (const { row, col, seen } of this.slots) {
      expect(map.has(`${row},${col}`)).toBe(false);
      map.set(`${row},${col}`, seen);
    }
    return map;
  }
}

const flat = (tiles: [number, number][]): Int32Array => Int32Array.from(tiles.flat());

/** Brute force: every tile within `radius` (Chebyshev) of any tile ever seen, clipped to the level. */
function expected(layout: LevelLayout, history: [number, number][][], radius: number): Map<string, boolean> {
  const map = new Map<string, boolean>();
  for (const seen of history) {
    for (const [row, col] of seen) {
      for (let r = row - radius; r <= row + radius; r++) {
        for (let c = col - radius; c <= col + radius; c++) {
          if (r >= 0 && c >= 0 && r < layout.rowsInTiles && c < layout.colsInTiles) map.set(`${r},${c}`, false);
        }
      }
    }
  }
  for (const [row, col] of history.at(-1) ?? []) map.set(`${row},${col}`, true);
  return map;
}

/** A tiny deterministic PRNG so the random cases are reproducible. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

describe('TileSet', () => {
  const layout = layoutLevel(LEVEL0);

  it('draws seen tiles and their context border, clipped to the level', () => {
    const sink = new PictureSink();
    const set = new TileSet(sink, { contextRadius: 5, maxTiles: 1e6 });
    set.setLevel(layout);
    const seen: [number, number][] = [[0, 0], [29, 29], [15, 3]];
    set.applySeen(flat(seen), seen.length);
    expect(sink.picture()).toEqual(expected(layout, [seen], 5));
  });

  it('matches a brute-force union over random walks of seen sets (radius 0–6)', () => {
    const random = prng(7);
    for (let trial = 0; trial < 40; trial++) {
      const radius = trial % 7;
      const sink = new PictureSink();
      const set = new TileSet(sink, { contextRadius: radius, maxTiles: 1e6 });
      set.setLevel(layout);
      const history: [number, number][][] = [];
      let row = Math.floor(random() * 30);
      let col = Math.floor(random() * 30);
      for (let step = 0; step < 6; step++) {
        const seen: [number, number][] = [];
        const n = Math.floor(random() * 12);
        for (let i = 0; i < n; i++) {
          const r = Math.min(29, Math.max(0, row + Math.floor(random() * 7) - 3));
          const c = Math.min(29, Math.max(0, col + Math.floor(random() * 7) - 3));
          if (!seen.some(([a, b]) => a === r && b === c)) seen.push([r, c]);
        }
        history.push(seen);
        set.applySeen(flat(seen), seen.length);
        expect(sink.picture()).toEqual(expected(layout, history, radius));
        row = Math.min(29, Math.max(0, row + Math.floor(random() * 9) - 4));
        col = Math.min(29, Math.max(0, col + Math.floor(random() * 9) - 4));
      }
    }
  });

  it('does work proportional to the change: an unchanged frame touches nothing, a shift touches its edge', () => {
    const big = layoutLevel({ ...LEVEL0, image_shape: [100_000, 100_000], base_shape: [100_000, 100_000], shape_in_tiles: [1000, 1000] });
    const sink = new PictureSink();
    const set = new TileSet(sink, { contextRadius: 5, maxTiles: 1e6 });
    set.setLevel(big);
    const first = block(100, 100, 40);
    expect(set.applySeen(flat(first), first.length)).toMatchObject({ added: 50 * 50, recolored: 0 });
    const again = set.applySeen(flat(first), first.length);
    expect(again).toEqual({ added: 0, recolored: 0, compacted: false, dropped: 0 });
    // Shift right by one column: 40 tiles leave, 40 enter (already context), one new border column of 50.
    const shifted = block(100, 101, 40);
    expect(set.applySeen(flat(shifted), shifted.length)).toMatchObject({ added: 50, recolored: 80 });
    expect(sink.adds).toBe(2550);
  });

  it('restarts the union from the seen tiles when maxTiles is reached', () => {
    const sink = new PictureSink();
    const set = new TileSet(sink, { contextRadius: 2, maxTiles: 40 });
    set.setLevel(layout);
    set.applySeen(flat([[2, 2]]), 1);
    expect(set.size).toBe(25);
    const result = set.applySeen(flat([[20, 20]]), 1);
    expect(result.compacted).toBe(true);
    expect(sink.picture()).toEqual(expected(layout, [[[20, 20]]], 2));
  });

  it('draws the first maxTiles seen tiles when even the seen set does not fit', () => {
    const sink = new PictureSink();
    const set = new TileSet(sink, { contextRadius: 5, maxTiles: 10 });
    set.setLevel(layout);
    const seen = block(0, 0, 4);
    const result = set.applySeen(flat(seen), seen.length);
    expect(result).toMatchObject({ compacted: true, dropped: 6 });
    expect(set.size).toBe(10);
    expect(sink.slots.every((slot) => slot.seen)).toBe(true);
  });

  it('clears on a level change and keeps the union on the same level', () => {
    const sink = new PictureSink();
    const set = new TileSet(sink, { contextRadius: 1, maxTiles: 1e6 });
    expect(set.setLevel(layout)).toBe(true);
    set.applySeen(flat([[5, 5]]), 1);
    expect(set.setLevel(layoutLevel({ ...LEVEL0 }))).toBe(false);
    expect(set.size).toBe(9);
    expect(set.setLevel(layoutLevel(LEVEL1))).toBe(true);
    expect(set.size).toBe(0);
    expect(sink.clears).toBe(2);
    expect(set.isSeen(5, 5)).toBe(false);
  });

  it('reports seen and drawn tiles and the seen bounds', () => {
    const set = new TileSet(new PictureSink(), { contextRadius: 1, maxTiles: 1e6 });
    set.setLevel(layout);
    set.applySeen(flat([[3, 4], [6, 2]]), 2);
    expect(set.isSeen(3, 4)).toBe(true);
    expect(set.isSeen(3, 5)).toBe(false);
    expect(set.isDrawn(3, 5)).toBe(true);
    expect(set.isDrawn(10, 10)).toBe(false);
    expect(set.bounds).toEqual({ minRow: 3, maxRow: 6, minCol: 2, maxCol: 4 });
  });
});
