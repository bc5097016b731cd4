import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FrameBudget, FrameLoop, type FrameLoopHooks } from '../src/frame-loop.js';

/** Runs `frames` frames that all have something to draw, each update costing `costMs`. */
function simulate(budget: FrameBudget, costMs: number, frames: number): { updates: number; spentMs: number } {
  let updates = 0;
  for (let frame = 0; frame < frames; frame += 1) {
    if (budget.skipFrame()) continue;
    budget.spent(costMs);
    updates += 1;
  }
  return { updates, spentMs: updates * costMs };
}

describe('FrameBudget', () => {
  it('updates every frame while updates fit the budget', () => {
    expect(simulate(new FrameBudget(3), 2.9, 600).updates).toBe(600);
  });

  it('keeps the average per frame near the budget when updates cost more', () => {
    for (const cost of [3.5, 4.5, 7, 10]) {
      const { updates, spentMs } = simulate(new FrameBudget(3), cost, 600);
      expect(spentMs / 600).toBeLessThanOrEqual(3 + cost / 600);
      expect(spentMs / 600).toBeGreaterThan(2.5);
      expect(updates).toBeLessThan(600);
    }
    // 3.5 ms updates: six frames of seven.
    expect(simulate(new FrameBudget(3), 3.5, 700).updates).toBe(600);
  });

  it('updates at least every sixth frame, and never skips with an infinite budget', () => {
    expect(simulate(new FrameBudget(3), 500, 60).updates).toBe(10);
    expect(simulate(new FrameBudget(Infinity), 500, 60).updates).toBe(60);
  });

  it('saves up at most one frame of credit', () => {
    const budget = new FrameBudget(3);
    for (let i = 0; i < 100; i += 1) expect(budget.skipFrame()).toBe(false); // frames with nothing spent
    budget.spent(9); // credit 3 − 9 = −6
    expect(budget.skipFrame()).toBe(true); // −3
    expect(budget.skipFrame()).toBe(true); // 0
    expect(budget.skipFrame()).toBe(false); // 3
  });
});

describe('FrameLoop without requestAnimationFrame', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('refuses schedule "frame" with LOADER_CHARTS_INVALID_OPTIONS; "manual" needs no frames', () => {
    vi.stubGlobal('requestAnimationFrame', undefined);
    const hooks = { wanted: () => false, update: () => undefined } as unknown as FrameLoopHooks;
    expect(() => new FrameLoop('frame', 16, hooks)).toThrow(expect.objectContaining({ name: 'LoaderChartsError', code: 'LOADER_CHARTS_INVALID_OPTIONS' }));
    expect(() => new FrameLoop('manual', 16, hooks)).not.toThrow();
  });
});

describe('FrameLoop', () => {
  /** Pending animation-frame callbacks, run by `frame()`. */
  let pending: Map<number, FrameRequestCallback>;
  let nextHandle: number;

  beforeEach(() => {
    pending = new Map();
    nextHandle = 1;
    vi.stubGlobal('requestAnimationFrame', (callback: FrameRequestCallback) => {
      pending.set(nextHandle, callback);
      return nextHandle++;
    });
    vi.stubGlobal('cancelAnimationFrame', (handle: number) => pending.delete(handle));
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  const settle = async (): Promise<void> => {
    for (let i = 0; i < 5; i += 1) await Promise.resolve();
  };

  /** Runs one animation frame; like a browser, microtasks queued before it drain first. */
  async function frame(): Promise<void> {
    await settle();
    const callbacks = [...pending.values()];
    pending.clear();
    for (const callback of callbacks) callback(0);
    await settle();
  }

  /** A widget whose update takes `resolve()` to finish when `hold` is on. */
  function widget(budgetMs = Infinity) {
    const state = { dirty: false, live: false, updates: 0, hold: false, errors: [] as unknown[], release: () => {} };
    const hooks: FrameLoopHooks = {
      wanted: () => state.dirty || state.live,
      update: () => {
        if (!state.dirty) return undefined;
        state.dirty = false;
        state.updates += 1;
        return state.hold ? loop.track(new Promise<void>((resolve) => (state.release = resolve))) : loop.track(Promise.resolve());
      },
      onError: (error) => state.errors.push(error),
    };
    const loop: FrameLoop = new FrameLoop('frame', budgetMs, hooks);
    return { loop, state };
  }

  it('asks for no frame while idle, and for one frame however often it is asked', async () => {
    const { loop, state } = widget();
    loop.request();
    expect(pending.size).toBe(0);
    state.dirty = true;
    loop.request();
    loop.request();
    expect(pending.size).toBe(1);
    await frame();
    expect(state.updates).toBe(1);
    expect(pending.size).toBe(0);
  });

  it('never starts a second update while one is in flight, and catches up on the next frame', async () => {
    const { loop, state } = widget();
    state.dirty = true;
    state.hold = true;
    loop.request();
    await frame();
    expect(loop.busy).toBe(true);
    state.dirty = true;
    loop.request();
    await frame(); // busy: skipped, asked again
    await frame();
    expect(state.updates).toBe(1);
    expect(pending.size).toBe(1);
    state.hold = false;
    state.release();
    await frame();
    expect(state.updates).toBe(2);
    expect(loop.busy).toBe(false);
  });

  it('keeps frames coming in live mode and reports update errors', async () => {
    const { loop, state } = widget();
    state.live = true;
    loop.request();
    for (let i = 0; i < 3; i += 1) await frame();
    expect(pending.size).toBe(1);
    const failing = new FrameLoop('frame', Infinity, { wanted: () => true, update: () => Promise.reject(new Error('boom')), onError: (e) => state.errors.push(e) });
    failing.request();
    await frame();
    expect(state.errors).toHaveLength(1);
    failing.dispose();
    loop.dispose();
  });

  it('skips frames after an update over budget', async () => {
    const { loop, state } = widget(3);
    state.dirty = true;
    loop.request();
    await frame();
    loop.spent(9); // three budgets over: the next two frames are left alone
    state.dirty = true;
    loop.request();
    await frame();
    await frame();
    expect(state.updates).toBe(1);
    await frame();
    expect(state.updates).toBe(2);
  });

  it('cancels its frame on pause and dispose, resumes only when wanted, and never asks in manual mode', async () => {
    const { loop, state } = widget();
    state.dirty = true;
    loop.request();
    loop.pause();
    expect(pending.size).toBe(0);
    loop.request();
    expect(pending.size).toBe(0);
    loop.resume();
    expect(pending.size).toBe(1);
    loop.dispose();
    expect(pending.size).toBe(0);
    loop.request();
    expect([loop.disposed, pending.size]).toEqual([true, 0]);
    const manual = new FrameLoop('manual', Infinity, { wanted: () => true, update: () => undefined, onError: () => {} });
    manual.request();
    expect(pending.size).toBe(0);
  });
});
