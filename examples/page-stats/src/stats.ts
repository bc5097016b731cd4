/** The numbers the page shows, computed without the DOM (so they are unit-tested on their own). */
import type { Poll } from '@webmon/napari';

export interface LayerStats {
  id: string;
  level: number | null;
  /** `rows×cols` of the current level, in pixels. */
  imageShape: [number, number] | null;
  /** Tiles of the current level. */
  tilesInLevel: number | null;
  seen: number;
  /** Seen tiles as a share of the level's tiles, 0–1. */
  seenShare: number | null;
  /** Width × height of the view in level-0 pixels. */
  viewSize: [number, number] | null;
}

/** One row per layer of a poll; layers without octree data get nulls. */
export function layerStats(poll: Poll): LayerStats[] {
  return Object.entries(poll.layers).map(([id, layer]) => {
    const config = layer.tile_config;
    const state = layer.tile_state;
    const tilesInLevel = config ? (config.shape_in_tiles[0] ?? 0) * (config.shape_in_tiles[1] ?? 0) : null;
    const seen = state?.seen.length ?? 0;
    const corners = state?.corners;
    return {
      id,
      level: config?.level_index ?? null,
      imageShape: config ? [config.image_shape[0] ?? 0, config.image_shape[1] ?? 0] : null,
      tilesInLevel,
      seen,
      seenShare: tilesInLevel ? seen / tilesInLevel : null,
      viewSize: corners ? [Math.abs(corners[1][1] - corners[0][1]), Math.abs(corners[1][0] - corners[0][0])] : null,
    };
  });
}

/**
 * Events per second per key over a sliding window, from arrival times (ms). Bounded: old entries are
 * dropped on every call, so a page left open for days uses constant memory.
 */
export class RateCounter {
  private readonly times = new Map<string, number[]>();

  constructor(private readonly windowMs = 5_000) {}

  add(key: string, now: number): void {
    let list = this.times.get(key);
    if (!list) {
      list = [];
      this.times.set(key, list);
    }
    list.push(now);
    this.trim(list, now);
  }

  /** Rate of every key seen so far, events per second. */
  rates(now: number): Map<string, number> {
    const result = new Map<string, number>();
    for (const [key, list] of this.times) {
      this.trim(list, now);
      result.set(key, list.length / (this.windowMs / 1000));
    }
    return result;
  }

  private trim(list: number[], now: number): void {
    let drop = 0;
    while (drop < list.length && (list[drop] ?? 0) <= now - this.windowMs) drop++;
    if (drop > 0) list.splice(0, drop);
  }
}

export function formatShare(share: number | null): string {
  if (share === null) return '–';
  if (share > 0 && share < 0.001) return '<0.1 %';
  return `${(share * 100).toFixed(share < 0.1 ? 1 : 0)} %`;
}
