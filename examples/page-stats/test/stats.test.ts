import { describe, expect, it } from 'vitest';
import { parsePoll } from '@webmon/napari';
import { RateCounter, formatShare, layerStats } from '../src/stats.js';
import { page } from '../src/page.js';

describe('layerStats', () => {
  it('summarises an octree layer and a plain layer', () => {
    const poll = parsePoll({
      layers: {
        '140234': {
          tile_config: { base_shape: [50000, 70000], image_shape: [782, 1094], shape_in_tiles: [4, 5], tile_size: 256, level_index: 6 },
          tile_state: { seen: [[0, 0], [0, 1], [1, 1]], corners: [[100, 200], [4100, 8200]] },
        },
        '77': {},
      },
    });
    // Layer ids are integer-like strings, which JS objects order numerically: look rows up by id.
    const rows = layerStats(poll);
    const octree = rows.find((row) => row.id === '140234');
    const plain = rows.find((row) => row.id === '77');
    expect(octree).toEqual({ id: '140234', level: 6, imageShape: [782, 1094], tilesInLevel: 20, seen: 3, seenShare: 0.15, viewSize: [8000, 4000] });
    expect(plain).toEqual({ id: '77', level: null, imageShape: null, tilesInLevel: null, seen: 0, seenShare: null, viewSize: null });
  });
});

describe('RateCounter', () => {
  it('counts events per second over its window and forgets old ones', () => {
    const counter = new RateCounter(1_000);
    for (let t = 0; t < 1_000; t += 10) counter.add('a', t);
    expect(counter.rates(999).get('a')).toBe(100);
    expect(counter.rates(1_500).get('a')).toBe(49);
    expect(counter.rates(5_000).get('a')).toBe(0);
  });
});

describe('formatShare', () => {
  it('formats shares for the table', () => {
    expect(formatShare(null)).toBe('–');
    expect(formatShare(0.0004)).toBe('<0.1 %');
    expect(formatShare(0.05)).toBe('5.0 %');
    expect(formatShare(0.5)).toBe('50 %');
  });
});

describe('the page definition', () => {
  it('follows the page contract', () => {
    expect(page.id).toBe('stats');
    expect(page.contract).toBe(1);
    expect(page.topics).toContain('napari.layers');
  });
});
