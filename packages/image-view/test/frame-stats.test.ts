import { describe, expect, it } from 'vitest';
import { FrameStats, formatRate, percentile } from '../src/frame-stats.js';

describe('FrameStats', () => {
  it('measures frame rate, throughput and latency percentiles over its window', () => {
    const stats = new FrameStats(2_000);
    // 60 frames at 30 Hz, 4 MiB each, latencies 1..60 ms.
    for (let i = 0; i < 60; i++) stats.add(1_000 + (i * 1000) / 30, 4 * 2 ** 20, i + 1);
    const now = 1_000 + (59 * 1000) / 30;
    const snapshot = stats.snapshot(now);
    expect(snapshot.fps).toBeCloseTo(30, 1);
    expect(snapshot.bytesPerSecond).toBeCloseTo((60 * 4 * 2 ** 20 * 1000) / ((59 * 1000) / 30), -3);
    expect(snapshot.latencyP50).toBe(30);
    expect(snapshot.latencyP99).toBe(60);
    expect(snapshot.total).toBe(60);
  });

  it('forgets frames older than the window; the total stays', () => {
    const stats = new FrameStats(1_000);
    stats.add(0, 10, 5);
    stats.add(100, 10, 5);
    const later = stats.snapshot(5_000);
    expect(later.fps).toBe(0);
    expect(Number.isNaN(later.latencyP50)).toBe(true);
    expect(later.total).toBe(2);
  });
});

describe('percentile', () => {
  it('is the nearest rank', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 99)).toBe(4);
    expect(Number.isNaN(percentile([], 50))).toBe(true);
  });
});

describe('formatRate', () => {
  it('writes MB/s', () => expect(formatRate(251_658_240)).toBe('252 MB/s'));
});
