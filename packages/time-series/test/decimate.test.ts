/**
 * Min/max decimation against a straightforward reference: seeded random walks with spikes and gaps, every
 * column's true min and max computed by filtering all points, and the drawn slots must hold exactly them.
 */
import { describe, expect, it } from 'vitest';
import { COLUMN_GAP, COLUMN_HAS, ColumnStats, SLOTS_PER_COLUMN, decimateRing, writeSlots } from '../src/decimate.js';
import { TimeRing } from '../src/ring-buffer.js';

/** mulberry32: a tiny seeded generator, so every run sees the same data. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Data {
  times: number[];
  values: number[];
}

/** A 60 Hz-ish random walk with jittered times, repeated times, rare spikes (±1000) and rare NaN / Infinity. */
function makeData(seed: number, n: number, start = 1_700_000_000_000): Data {
  const next = random(seed);
  const times: number[] = [];
  const values: number[] = [];
  let t = start;
  let v = 0;
  for (let i = 0; i < n; i += 1) {
    t += next() < 0.05 ? 0 : next() * 33;
    v += next() - 0.5;
    const roll = next();
    times.push(t);
    values.push(roll < 0.002 ? v + 1000 : roll < 0.004 ? v - 1000 : roll < 0.006 ? Number.NaN : roll < 0.007 ? Infinity : v);
  }
  return { times, values };
}

interface RefColumn {
  min: number;
  max: number;
  has: boolean;
  gap: boolean;
}

function reference(data: Data, colMs: number, col0: number, col1: number): RefColumn[] {
  const out: RefColumn[] = [];
  for (let c = col0; c <= col1; c += 1) {
    const values = data.values.filter((_, i) => Math.floor((data.times[i] as number) / colMs) === c);
    const finite = values.filter(Number.isFinite);
    out.push({ min: Math.min(...finite), max: Math.max(...finite), has: finite.length > 0, gap: finite.length < values.length });
  }
  return out;
}

function fill(data: Data, capacity = data.times.length): TimeRing {
  const ring = new TimeRing(capacity);
  data.times.forEach((t, i) => ring.push(t, data.values[i] as number));
  return ring;
}

function check(stats: ColumnStats, ref: RefColumn[]): void {
  const slots: (number | null | undefined)[] = [];
  writeSlots(stats, slots);
  expect(slots.length).toBe(ref.length * SLOTS_PER_COLUMN);
  ref.forEach((column, k) => {
    const flags = stats.flags[k] as number;
    expect({ has: (flags & COLUMN_HAS) !== 0, gap: (flags & COLUMN_GAP) !== 0 }).toEqual({ has: column.has, gap: column.gap });
    const drawn = slots.slice(k * SLOTS_PER_COLUMN, (k + 1) * SLOTS_PER_COLUMN).filter((s): s is number => typeof s === 'number');
    if (!column.has) {
      expect(drawn).toEqual([]);
      return;
    }
    // The drawn vertices of the column are exactly its true min and max (one vertex when they are equal).
    expect(Math.min(...drawn)).toBe(column.min);
    expect(Math.max(...drawn)).toBe(column.max);
    expect(drawn.length).toBe(column.min === column.max ? 1 : 2);
    if (column.gap) expect(slots[k * SLOTS_PER_COLUMN]).toBeNull();
  });
}

describe('min/max decimation per column', () => {
  for (const seed of [1, 2, 3, 42]) {
    it(`keeps each column's true min and max (seed ${seed}, wrapped ring, several widths)`, () => {
      const data = makeData(seed, 20_000);
      // A ring smaller than the data: the oldest points were overwritten and the storage wraps.
      const kept = 15_000;
      const ring = fill(data, kept);
      const tail: Data = { times: data.times.slice(-kept), values: data.values.slice(-kept) };
      const first = tail.times[0] as number;
      const last = tail.times[kept - 1] as number;
      for (const columns of [37, 500, 1_000, 3_000]) {
        const colMs = (last - first) / columns;
        const col0 = Math.floor(first / colMs);
        const col1 = Math.floor(last / colMs);
        const stats = new ColumnStats();
        stats.reset(colMs, col0, col1 - col0 + 1);
        decimateRing(ring, stats, col0, col1);
        check(stats, reference(tail, colMs, col0, col1));
        // A part of the range only (a zoomed view): columns of it, points outside ignored.
        const a = col0 + Math.floor((col1 - col0) / 3);
        const b = col0 + Math.floor((col1 - col0) / 2);
        const part = new ColumnStats();
        part.reset(colMs, a, b - a + 1);
        decimateRing(ring, part, a, b);
        check(part, reference(tail, colMs, a, b));
      }
    });
  }

  it('gives the same columns when built incrementally (copied columns plus the changed ones) as from scratch', () => {
    const data = makeData(7, 6_000);
    const colMs = 250;
    const ring = new TimeRing(data.times.length);
    let stats = new ColumnStats();
    let spare = new ColumnStats();
    let pushed = 0;
    for (const step of [1_000, 1, 500, 2_000, 2_499]) {
      const dirtyFrom = data.times[pushed] as number;
      for (let i = pushed; i < pushed + step; i += 1) ring.push(data.times[i] as number, data.values[i] as number);
      pushed += step;
      const col0 = Math.floor((data.times[0] as number) / colMs);
      const col1 = Math.floor(ring.lastTime / colMs);
      spare.reset(colMs, col0, col1 - col0 + 1);
      const reuseTo = Math.min(stats.firstCol + stats.count - 1, Math.floor(dirtyFrom / colMs) - 1);
      if (stats.count > 0 && reuseTo >= col0) {
        spare.copyFrom(stats, col0, reuseTo);
        decimateRing(ring, spare, reuseTo + 1, col1);
      } else {
        decimateRing(ring, spare, col0, col1);
      }
      [stats, spare] = [spare, stats];
      check(stats, reference({ times: data.times.slice(0, pushed), values: data.values.slice(0, pushed) }, colMs, col0, col1));
    }
  });

  it('orders a column’s two vertices by when they happened, and breaks the line from a non-finite value to the next finite one', () => {
    const colMs = 10;
    const ring = new TimeRing(16);
    // column 0: max then min; column 1: min then max; column 2: NaN only; column 3: empty; column 4: 5.
    for (const [t, v] of [
      [0, 1],
      [1, 9],
      [2, -3],
      [10, -1],
      [11, 4],
      [20, Number.NaN],
      [40, 5],
    ] as const) {
      ring.push(t, v);
    }
    const stats = new ColumnStats();
    stats.reset(colMs, 0, 5);
    decimateRing(ring, stats, 0, 4);
    const slots: (number | null | undefined)[] = [];
    expect(writeSlots(stats, slots)).toBe(true);
    expect(slots).toEqual([undefined, 9, -3, undefined, -1, 4, null, null, null, null, null, null, null, 5, undefined]);
  });
});
