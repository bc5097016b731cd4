/**
 * float16 views where the runtime has `Float16Array` (Node ≥ 24), which `view-math.ts` uses when it finds
 * it at load. Under a runtime without one (Node 20) a stand-in is installed before the module is loaded —
 * a Uint16Array written through `float16Bits` — so the branch that writes through it runs either way.
 * (Each test file loads its own copy of the module; `view-math.test.ts` runs the hand-written branch.)
 * Its values must be the float16 nearest the float32 means the same module computes, to within one step
 * (a real Float16Array rounds the double directly, the hand-written way rounds to float32 first).
 */
import { describe, expect, it } from 'vitest';
import { canonicalView, float16Bits, type ArrayView } from '@webmon/protocol';

const runtime = globalThis as { Float16Array?: unknown };
const native = runtime.Float16Array !== undefined;
if (!native) {
  runtime.Float16Array = class {
    constructor(buffer: ArrayBuffer) {
      const bits = new Uint16Array(buffer);
      return new Proxy(bits, {
        set(target, key, value: number) {
          target[Number(key)] = float16Bits(value);
          return true;
        },
      });
    }
  };
}
// Loaded now, after the stand-in (the helpers load the relay, and so this module, too).
const { computeView, planView } = await import('../src/view-math.js');
const { random } = await import('./helpers.js');

describe(`float16 views through ${native ? 'the runtime’s Float16Array' : 'a Float16Array stand-in'}`, () => {
  it('gives the float16 of each float32 mean: area and block views, channels, regions, NaNs', () => {
    const next = random(123);
    for (const shape of [[33, 17], [64, 64], [8, 128], [13, 11, 3]]) {
      const count = shape.reduce((a, b) => a * b, 1);
      const values = Float32Array.from({ length: count }, () => (next() < 0.02 ? NaN : (next() - 0.3) * 3000));
      const bytes = new Uint8Array(values.buffer);
      const views: ArrayView[] = [{ maxShape: [8, 8] }, { maxShape: [100, 100], resample: 'area' }, { maxShape: [5, 6], resample: 'area', region: { y0: 2, x0: 3, y1: 30, x1: 16 } }];
      for (const view of views) {
        const plan = planView(shape, 'float32', 'C', canonicalView({ ...view, dtype: 'float16' }))!;
        const halves = computeView(bytes, 'float32', plan, 'float16').data;
        const floats = computeView(bytes, 'float32', plan, 'float32').data;
        expect(halves).toBeInstanceOf(Uint16Array);
        expect(halves.length).toBe(floats.length);
        floats.forEach((mean, i) => {
          const what = `${shape.join('x')} → ${JSON.stringify(view)} [${i}]`;
          if (Number.isNaN(mean)) expect(halves[i]! & 0x7c00, what).toBe(0x7c00);
          else expect(Math.abs(halves[i]! - float16Bits(mean)), `${what}: ${halves[i]} vs ${float16Bits(mean)}`).toBeLessThanOrEqual(native ? 1 : 0);
        });
      }
    }
  });
});
