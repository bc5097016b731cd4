import { describe, expect, it } from 'vitest';
import { FrameBudget } from '../src/frame-loop.js';

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
