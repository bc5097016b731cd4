import { describe, expect, it } from 'vitest';
import { FrameArena } from '../src/frame-arena.js';

const KIB = 1024;

/** Fills every piece with its own byte and checks that each still holds only that byte. */
function expectApart(views: Uint8Array[]): void {
  views.forEach((view, n) => view.fill(n + 1));
  views.forEach((view, n) => expect(new Set(view)).toEqual(new Set([n + 1])));
}

describe('FrameArena', () => {
  it('hands out 8-byte aligned pieces that do not overlap, until the memory is used', () => {
    const arena = new FrameArena(64 * KIB);
    const views: Uint8Array[] = [];
    for (let view = arena.allocate(1000); view !== undefined; view = arena.allocate(1000 + views.length)) views.push(view);
    expect(views.length).toBeGreaterThan(55);
    expect(views.length).toBeLessThan(66);
    for (const view of views) expect(view.byteOffset % 8).toBe(0);
    expectApart(views);
    expect(arena.touchedBytes).toBeLessThanOrEqual(64 * KIB);
    expect(arena.freeBytes).toBeLessThan(2 * KIB);
  });

  it('merges a freed piece with free neighbours, so a bigger frame fits where small ones were', () => {
    const arena = new FrameArena(16 * KIB);
    const [a, b, c] = [arena.allocate(4 * KIB), arena.allocate(4 * KIB), arena.allocate(4 * KIB)] as Uint8Array[];
    const d = arena.allocate(3 * KIB) as Uint8Array;
    expect(arena.allocate(4 * KIB)).toBeUndefined();
    arena.free(a as Uint8Array);
    arena.free(c as Uint8Array);
    expect(arena.fragments).toBe(2);
    expect(arena.allocate(8 * KIB)).toBeUndefined(); // 8 KiB free, but in two pieces
    arena.free(b as Uint8Array);
    expect(arena.fragments).toBe(1);
    const big = arena.allocate(12 * KIB - 64) as Uint8Array;
    expect(big).toBeDefined();
    expectApart([big, d]);
  });

  it('is a ring for a stream of equal frames freed oldest first: the same memory, over and over', () => {
    const arena = new FrameArena(100 * KIB);
    const held: Uint8Array[] = [];
    for (let n = 0; n < 2000; n++) {
      let view = arena.allocate(10 * KIB);
      while (view === undefined) {
        arena.free(held.shift() as Uint8Array);
        view = arena.allocate(10 * KIB);
      }
      held.push(view);
    }
    expect(held.length).toBe(9);
    expect(arena.touchedBytes).toBeLessThanOrEqual(100 * KIB);
    expect(arena.fragments).toBeLessThanOrEqual(1);
    expectApart(held);
  });

  it('never hands out a piece across segments, and refuses a view it did not make', () => {
    const arena = new FrameArena(2 * 48 * KIB, 48 * KIB);
    const first = arena.allocate(40 * KIB) as Uint8Array;
    const second = arena.allocate(40 * KIB) as Uint8Array; // does not fit the rest of the first segment
    expect(second.buffer).not.toBe(first.buffer);
    expect(arena.allocate(16 * KIB)).toBeUndefined(); // ~8 KiB free in each segment
    expect(arena.freeBytes).toBeGreaterThan(14 * KIB);
    arena.free(first);
    expect(arena.allocate(44 * KIB)?.buffer).toBe(first.buffer);
    expect(() => arena.free(new Uint8Array(8))).toThrow(RangeError);
    expect(() => arena.free(first.subarray(8))).toThrow(RangeError);
    expect(arena.touchedBytes).toBeLessThanOrEqual(2 * 48 * KIB);
  });
});
