import { describe, expect, it } from 'vitest';
import { RateWindow } from '../src/core/rate-window.js';
import { percentileOfSorted, rateSpanMs, summarizeFrameTimes, summarizeLoads } from '../src/core/summary.js';

describe('percentileOfSorted (nearest rank)', () => {
  it('picks a value that occurred', () => {
    const values = Array.from({ length: 20 }, (_, i) => i + 1); // 1..20
    expect(percentileOfSorted(values, 95)).toBe(19);
    expect(percentileOfSorted(values, 50)).toBe(10);
    expect(percentileOfSorted(values, 100)).toBe(20);
    expect(percentileOfSorted(values, 0)).toBe(1);
    expect(percentileOfSorted([7], 95)).toBe(7);
    expect(percentileOfSorted([], 95)).toBeNull();
  });
});

describe('summarizeFrameTimes', () => {
  it('gives mean, p95 and the fps the mean implies, leaving the input alone', () => {
    const deltas = [20, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 50];
    const summary = summarizeFrameTimes(deltas);
    expect(summary.count).toBe(20);
    expect(summary.meanMs).toBeCloseTo(12.5, 10); // (20 + 18 × 10 + 50) / 20
    expect(summary.p95Ms).toBe(20);
    expect(summary.fps).toBeCloseTo(80, 10);
    expect(deltas[0]).toBe(20);
  });

  it('is empty without frames and has no fps for zero deltas', () => {
    expect(summarizeFrameTimes([])).toEqual({ count: 0, meanMs: null, p95Ms: null, fps: null });
    expect(summarizeFrameTimes([0, 0]).fps).toBeNull();
  });
});

describe('summarizeLoads and rateSpanMs', () => {
  it('computes per-second rates over the span', () => {
    const summary = summarizeLoads({ count: 50, bytes: 5_000_000, loadMs: 250 }, 5_000);
    expect(summary).toEqual({ count: 50, loadsPerSecond: 10, bytesPerSecond: 1_000_000, megabytesPerSecond: 1, meanLoadMs: 5 });
    expect(summarizeLoads({ count: 0, bytes: 0, loadMs: 0 }, 10_000).meanLoadMs).toBeNull();
  });

  it('measures rates over the time watched, between one second and the window', () => {
    expect(rateSpanMs({ windowMs: 10_000, end: 5_000, firstSeen: 2_000 })).toBe(3_000);
    expect(rateSpanMs({ windowMs: 10_000, end: 100_000, firstSeen: 0 })).toBe(10_000);
    expect(rateSpanMs({ windowMs: 10_000, end: 2_000, firstSeen: 2_000 })).toBe(1_000);
    expect(rateSpanMs({ windowMs: 10_000, end: -Infinity, firstSeen: Infinity })).toBe(1_000);
  });
});

describe('RateWindow', () => {
  it('counts every load of a burst, whatever the chart keeps', () => {
    const rates = new RateWindow();
    const start = 1_700_000_000_000;
    for (let i = 0; i < 2_000; i += 1) rates.add(start + i / 2, 1_000, 2);
    expect(rates.totals(start)).toEqual({ count: 2_000, bytes: 2_000_000, loadMs: 4_000 });
    expect(rates.bucketCount).toBe(10);
  });

  it('drops whole buckets before the cutoff and keeps late loads in their bucket', () => {
    const rates = new RateWindow({ bucketMs: 100 });
    rates.add(50, 1, 1);
    rates.add(450, 1, 1);
    rates.add(250, 1, 1); // late
    rates.add(260, 1, 1);
    expect(rates.bucketCount).toBe(3);
    expect(rates.totals(200).count).toBe(3);
    rates.evictBefore(300);
    expect(rates.totals(0).count).toBe(1);
  });

  it('stays bounded when times are scattered', () => {
    const rates = new RateWindow({ bucketMs: 100, maxBuckets: 50 });
    for (let i = 0; i < 10_000; i += 1) rates.add(i * 1_000_003, 1, 1);
    expect(rates.bucketCount).toBe(50);
  });
});
