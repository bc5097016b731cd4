import { describe, expect, it } from 'vitest';
import { TimeWindow } from '../src/core/time-window.js';

/** A deliberately naive model: sort everything, filter by cutoff, keep the newest `max`. */
class ReferenceWindow {
  points: { time: number; id: number }[] = [];
  constructor(readonly max: number) {}
  insert(time: number, id: number): void {
    this.points.push({ time, id });
    this.points.sort((a, b) => a.time - b.time || a.id - b.id);
    if (this.points.length > this.max) this.points.splice(0, this.points.length - this.max);
  }
  evictBefore(cutoff: number): void {
    this.points = this.points.filter((point) => point.time >= cutoff);
  }
}

describe('TimeWindow', () => {
  it('keeps points in time order and evicts before the cutoff, keeping a point exactly at it', () => {
    const window = new TimeWindow<string>(100);
    const evicted: string[] = [];
    for (const [time, id] of [[1, 'a'], [2, 'b'], [3, 'c'], [4, 'd']] as const) window.insert(time, id, evicted);
    window.evictBefore(3, evicted);
    expect(window.items()).toEqual(['c', 'd']);
    expect(evicted).toEqual(['a', 'b']);
    expect(window.oldestTime).toBe(3);
    expect(window.newestTime).toBe(4);
  });

  it('places a late point by time, after points of equal time', () => {
    const window = new TimeWindow<string>(100);
    const evicted: string[] = [];
    window.insert(10, 'a', evicted);
    window.insert(30, 'c', evicted);
    window.insert(20, 'b', evicted);
    window.insert(20, 'b2', evicted);
    window.insert(5, 'first', evicted);
    expect(window.items()).toEqual(['first', 'a', 'b', 'b2', 'c']);
    expect(window.times()).toEqual([5, 10, 20, 20, 30]);
  });

  it('caps the number of points, evicting the oldest', () => {
    const window = new TimeWindow<number>(3);
    const evicted: number[] = [];
    for (let i = 0; i < 10; i += 1) window.insert(i, i, evicted);
    expect(window.items()).toEqual([7, 8, 9]);
    expect(evicted).toEqual([0, 1, 2, 3, 4, 5, 6]);
    window.setMaxPoints(1, evicted);
    expect(window.items()).toEqual([9]);
  });

  it('matches a naive model over many random operations (including compaction)', () => {
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const window = new TimeWindow<number>(2_500);
    const reference = new ReferenceWindow(2_500);
    const evicted: number[] = [];
    let clock = 0;
    for (let id = 0; id < 30_000; id += 1) {
      clock += random() * 10;
      // One point in twenty is late by up to 50 time units.
      const time = random() < 0.05 ? clock - random() * 50 : clock;
      window.insert(time, id, evicted);
      reference.insert(time, id);
      if (id % 7 === 0) {
        window.evictBefore(clock - 5_000, evicted);
        reference.evictBefore(clock - 5_000);
      }
    }
    expect(window.items()).toEqual(reference.points.map((point) => point.id));
    expect(window.size).toBe(reference.points.length);
    // Every point left exactly once.
    expect(new Set(evicted).size).toBe(evicted.length);
    expect(evicted.length + window.size).toBe(30_000);
  });

  it('clears into evicted', () => {
    const window = new TimeWindow<number>(10);
    const evicted: number[] = [];
    window.insert(1, 1, evicted);
    window.insert(2, 2, evicted);
    window.clear(evicted);
    expect(window.size).toBe(0);
    expect(window.oldestTime).toBeUndefined();
    expect(evicted).toEqual([1, 2]);
  });
});
