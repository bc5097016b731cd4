import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TimeRing } from '../src/ring-buffer.js';

/** The ring read back through `segments`, the way the decimation reads it. */
function viaSegments(ring: TimeRing, i0 = 0, i1 = ring.length): [number, number][] {
  const out: [number, number][] = [];
  ring.segments(i0, i1, (from, to) => {
    for (let p = from; p < to; p += 1) out.push([ring.times[p] as number, ring.values[p] as number]);
  });
  return out;
}

describe('TimeRing', () => {
  it('behaves like an array that keeps the newest `capacity` points (random operations)', () => {
    type Op = { kind: 'push'; dt: number; value: number } | { kind: 'drop'; back: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ kind: fc.constant('push' as const), dt: fc.integer({ min: 0, max: 5 }), value: fc.double() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), back: fc.integer({ min: 0, max: 30 }) }) },
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 17 }), fc.array(op, { maxLength: 200 }), (capacity, ops) => {
        const ring = new TimeRing(capacity);
        let model: [number, number][] = [];
        let t = 0;
        for (const o of ops) {
          if (o.kind === 'push') {
            t += o.dt;
            const overwrote = ring.push(t, o.value);
            model.push([t, o.value]);
            expect(overwrote).toBe(model.length > capacity);
            if (model.length > capacity) model = model.slice(1);
          } else {
            const cutoff = t - o.back;
            const dropped = ring.dropBefore(cutoff);
            const kept = model.filter(([time]) => time >= cutoff);
            expect(dropped).toBe(model.length - kept.length);
            model = kept;
          }
          expect(ring.length).toBe(model.length);
          expect(viaSegments(ring)).toEqual(model);
          expect(ring.lastTime).toBe(model.length ? model[model.length - 1]![0] : -Infinity);
          expect(ring.firstTime).toBe(model.length ? model[0]![0] : Infinity);
          for (const probe of [t - 7, t - 2, t, t + 1]) {
            const expected = model.findIndex(([time]) => time >= probe);
            expect(ring.lowerBound(probe)).toBe(expected === -1 ? model.length : expected);
          }
          if (model.length > 2) {
            expect(viaSegments(ring, 1, model.length - 1)).toEqual(model.slice(1, -1));
            expect(ring.timeAt(1)).toBe(model[1]![0]);
            expect(Object.is(ring.valueAt(1), model[1]![1])).toBe(true);
          }
        }
      }),
      { seed: 20261204, numRuns: 300 },
    );
  });

  it('holds NaN and infinities as values', () => {
    const ring = new TimeRing(4);
    ring.push(1, Number.NaN);
    ring.push(2, Infinity);
    ring.push(3, -Infinity);
    expect(viaSegments(ring)).toEqual([
      [1, Number.NaN],
      [2, Infinity],
      [3, -Infinity],
    ]);
  });

  it('clear() empties it', () => {
    const ring = new TimeRing(3);
    for (let i = 0; i < 5; i += 1) ring.push(i, i);
    ring.clear();
    expect(ring.length).toBe(0);
    expect(ring.lastTime).toBe(-Infinity);
    ring.push(9, 1);
    expect(viaSegments(ring)).toEqual([[9, 1]]);
  });
});
