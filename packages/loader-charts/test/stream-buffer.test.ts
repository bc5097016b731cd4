import { describe, expect, it } from 'vitest';
import { StreamBuffer } from '../src/core/stream-buffer.js';
import { WindowClock } from '../src/core/window-clock.js';

interface Row {
  t: number;
}

const row = (t: number): Row => ({ t });

describe('StreamBuffer', () => {
  it('hands over new rows once, then the rows that left the window', () => {
    const buffer = new StreamBuffer<Row>({ windowMs: 1_000, maxPoints: 100, clock: new WindowClock() });
    const rows = [0, 400, 800].map(row);
    for (const r of rows) buffer.push(r.t, r);
    expect(buffer.takeChanges()).toEqual({ insert: rows, remove: [] });
    expect(buffer.dirty).toBe(false);
    const late = row(1_500);
    buffer.push(late.t, late);
    const changes = buffer.takeChanges();
    expect(changes.insert).toEqual([late]);
    // Window is [500, 1500]: 0 and 400 were shown and must be removed.
    expect(changes.remove).toEqual([rows[0], rows[1]]);
    expect(buffer.rows()).toEqual([rows[2], late]);
  });

  it('hands a row pushed twice over once as an insert and once as a removal', () => {
    const buffer = new StreamBuffer<Row>({ windowMs: 1_000, maxPoints: 100, clock: new WindowClock() });
    const twice = row(0);
    buffer.push(twice.t, twice);
    expect(buffer.takeChanges()).toEqual({ insert: [twice], remove: [] });
    buffer.push(twice.t, twice); // shown already
    const later = row(500);
    buffer.push(later.t, later);
    expect(buffer.takeChanges()).toEqual({ insert: [later], remove: [] });
    buffer.push(1_200, row(1_200)); // both copies of `twice` leave
    const changes = buffer.takeChanges();
    expect(changes.remove).toEqual([twice]);
    expect(changes.insert.map((r) => r.t)).toEqual([1_200]);
    buffer.clear();
    expect(buffer.takeChanges().remove.map((r) => r.t)).toEqual([500, 1_200]);
  });

  it('forgets rows that leave before they were ever shown, and drops rows already older than the window', () => {
    const buffer = new StreamBuffer<Row>({ windowMs: 1_000, maxPoints: 100, clock: new WindowClock() });
    const early = row(0);
    buffer.push(early.t, early);
    buffer.push(5_000, row(5_000));
    expect(buffer.push(100, row(100))).toBe(false);
    const changes = buffer.takeChanges();
    expect(changes.insert.map((r) => r.t)).toEqual([5_000]);
    expect(changes.remove).toEqual([]);
  });

  it('stays bounded with no changes ever taken: 5 minutes of 60 Hz while paused', () => {
    const buffer = new StreamBuffer<Row>({ windowMs: 10_000, maxPoints: 3_000, clock: new WindowClock() });
    const start = 1_700_000_000_000;
    buffer.push(start, row(start));
    buffer.takeChanges(); // one row shown, then the view is frozen
    let maxPending = 0;
    for (let frame = 1; frame < 5 * 60 * 60; frame += 1) {
      const t = start + (frame * 1000) / 60;
      buffer.push(t, row(t));
      maxPending = Math.max(maxPending, buffer.size);
    }
    expect(maxPending).toBeLessThanOrEqual(601);
    const changes = buffer.takeChanges();
    expect(changes.insert.length).toBe(buffer.size);
    expect(changes.remove.length).toBe(1);
  });

  it('caps a burst at maxPoints', () => {
    const buffer = new StreamBuffer<Row>({ windowMs: 10_000, maxPoints: 500, clock: new WindowClock() });
    for (let i = 0; i < 2_000; i += 1) buffer.push(i / 2, row(i / 2));
    expect(buffer.size).toBe(500);
    expect(buffer.rows()[0]?.t).toBe(750);
  });

  it('follows a clock moved by another series and a changed window length', () => {
    const clock = new WindowClock();
    const frames = new StreamBuffer<Row>({ windowMs: 1_000, maxPoints: 100, clock });
    const loads = new StreamBuffer<Row>({ windowMs: 1_000, maxPoints: 100, clock });
    loads.push(100, row(100));
    loads.takeChanges();
    frames.push(2_000, row(2_000));
    expect(loads.takeChanges().remove.map((r) => r.t)).toEqual([100]);
    for (const t of [1_200, 1_500, 1_900]) frames.push(t, row(t));
    frames.takeChanges();
    frames.windowMs = 200;
    expect(frames.takeChanges().remove.map((r) => r.t)).toEqual([1_200, 1_500]);
  });

  it('uses the wall clock in live mode', () => {
    let now = 10_000;
    const buffer = new StreamBuffer<Row>({ windowMs: 1_000, maxPoints: 100, clock: new WindowClock({ mode: 'live', now: () => now }) });
    buffer.push(9_500, row(9_500));
    buffer.takeChanges();
    now = 10_600;
    expect(buffer.takeChanges().remove.map((r) => r.t)).toEqual([9_500]);
  });
});
