import { describe, expect, it } from 'vitest';
import { SharedRing } from '../src/shared-ring.js';

describe('SharedRing', () => {
  it('hands out space in order, never splits a frame at the end, and reuses what the reader released', () => {
    const ring = new SharedRing(100);
    const a = ring.reserve(40);
    const b = ring.reserve(40);
    expect(a).toEqual({ offset: 0, end: 40 });
    expect(b).toEqual({ offset: 40, end: 80 });
    // 20 bytes left at the end, none at the start yet: a 30-byte frame waits for the reader.
    expect(ring.reserve(30)).toBeUndefined();
    ring.release(a!.end);
    // Now it starts at 0, the last 20 bytes skipped (and counted as used until the reader passes them).
    const c = ring.reserve(30);
    expect(c).toEqual({ offset: 0, end: 130 });
    expect(ring.used).toBe(90);
    ring.release(b!.end);
    ring.release(c!.end);
    expect(ring.used).toBe(0);
    expect(ring.reserve(50)).toEqual({ offset: 30, end: 180 });
  });

  it('refuses a frame larger than half the ring (it would stall every other frame) and one that does not fit', () => {
    const ring = new SharedRing(100);
    expect(ring.reserve(51)).toBeUndefined();
    expect(ring.reserve(50)).toBeDefined();
    expect(ring.reserve(50)).toBeDefined();
    expect(ring.reserve(1)).toBeUndefined();
    // An old position released again changes nothing.
    ring.release(50);
    ring.release(10);
    expect(ring.used).toBe(50);
  });

  it('both threads see the same bytes', () => {
    const ring = new SharedRing(64);
    const slot = ring.reserve(4)!;
    ring.bytes.set([1, 2, 3, 4], slot.offset);
    expect([...new Uint8Array(ring.buffer, slot.offset, 4)]).toEqual([1, 2, 3, 4]);
  });
});
