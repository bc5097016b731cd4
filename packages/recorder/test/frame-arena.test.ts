import { describe, expect, it } from 'vitest';
import { FrameArena } from '../src/frame-arena.js';

/** Where a piece starts in its segment. */
const at = (view: Uint8Array | undefined): number => {
  if (view === undefined) throw new Error('no room');
  return view.byteOffset;
};

/** Fills every piece with its own byte and checks that each still holds only that byte. */
function expectApart(views: Uint8Array[]): void {
  views.forEach((view, n) => view.fill(n + 1));
  views.forEach((view, n) => expect(new Set(view)).toEqual(new Set([n + 1])));
}

describe('FrameArena', () => {
  it('hands out 8-byte aligned pieces from the low end, and refuses what does not fit', () => {
    const arena = new FrameArena(100); // 96 usable: whole 8-byte units only
    expect(arena.size).toBe(96);
    expect(at(arena.allocate(10))).toBe(0);
    expect(at(arena.allocate(1))).toBe(16);
    expect(at(arena.allocate(24))).toBe(24);
    expect(arena.freeBytes).toBe(96 - 48);
    expect(arena.touchedBytes).toBe(48);
    expect(arena.allocate(49)).toBeUndefined();
    expect(arena.allocate(48)?.byteLength).toBe(48);
    expect(arena.freeBytes).toBe(0);
    expect(arena.touchedBytes).toBe(96);
  });

  it('hands out pieces from the high end on request, and the two ends meet', () => {
    const arena = new FrameArena(64);
    expect(at(arena.allocate(8, true))).toBe(56);
    expect(at(arena.allocate(16, true))).toBe(40);
    expect(at(arena.allocate(16))).toBe(0);
    expect(arena.touchedBytes).toBe(16 + 24);
    expect(arena.allocate(24, true)).toBeDefined(); // the 24 left between them
    expect(arena.allocate(1)).toBeUndefined();
    expect(arena.touchedBytes).toBe(64);
  });

  it('merges a freed piece with free neighbours on both sides, and refuses a double free', () => {
    const arena = new FrameArena(64);
    const a = arena.allocate(16) as Uint8Array;
    const b = arena.allocate(16) as Uint8Array;
    const c = arena.allocate(16) as Uint8Array;
    expect(arena.fragments).toBe(1); // [48, 64)
    arena.free(a);
    arena.free(c);
    expect(arena.fragments).toBe(2); // [0, 16) and [32, 64)
    expect(() => arena.free(a)).toThrow(RangeError);
    expect(at(arena.allocate(32))).toBe(32);
    arena.free(b);
    expect(arena.fragments).toBe(1); // [0, 32)
    expect(at(arena.allocate(32))).toBe(0);
    expect(arena.freeBytes).toBe(0);
  });

  it('is a ring for a stream of equal frames freed oldest first, beside small pieces at the top', () => {
    const arena = new FrameArena(100 * 1024);
    const small = [arena.allocate(4096, true), arena.allocate(4096, true)] as Uint8Array[];
    const held: Uint8Array[] = [];
    for (let n = 0; n < 2000; n++) {
      let view = arena.allocate(10 * 1024);
      while (view === undefined) {
        arena.free(held.shift() as Uint8Array);
        view = arena.allocate(10 * 1024);
      }
      held.push(view);
    }
    expect(held.length).toBe(9);
    expect(arena.fragments).toBeLessThanOrEqual(2);
    expectApart([...held, ...small]);
  });

  it('never hands out a piece across segments, merges only within one, and refuses a view it did not make', () => {
    const arena = new FrameArena(96, 48); // two segments of 48
    const first = arena.allocate(40) as Uint8Array;
    const second = arena.allocate(40) as Uint8Array; // does not fit the 8 left in the first segment
    expect(second.buffer).not.toBe(first.buffer);
    expect(second.byteOffset).toBe(0);
    expect(arena.allocate(16)).toBeUndefined(); // 8 + 8 free, in two segments
    arena.free(first);
    arena.free(second);
    expect(arena.fragments).toBe(2); // one per segment, not merged across
    expect(arena.allocate(48)).toBeDefined();
    expect(arena.allocate(48)).toBeDefined();
    expect(arena.allocate(1)).toBeUndefined();
    expect(() => arena.free(new Uint8Array(8))).toThrow(RangeError);
  });
});
