/**
 * What the viewer needs from a tile renderer: a `TileSink` (filled by `TileSet`) that can upload its changes,
 * recolour everything and free its GPU buffers. Two implementations, both one draw call for all tiles:
 * `MergedTiles` (default) and `InstancedTiles`.
 */
import type { BufferAttribute, Color, InterleavedBufferAttribute } from 'three';
import type { LevelLayout } from './level-layout.js';
import type { TileSink } from './tile-set.js';

export interface TileLayer extends TileSink {
  readonly instanceCount: number;
  readonly instanceCapacity: number;
  setLayout(layout: LevelLayout | null): void;
  setColors(tileColor: Color, seenColor: Color): void;
  /** Uploads what changed since the last flush; called right before rendering. */
  flush(): void;
  dispose(): void;
}

/** Past this many scattered recolours per frame, one covering range is cheaper than many `bufferSubData` calls. */
const MAX_COLOR_RANGES = 256;

/**
 * Queues the uploads for one frame: the appended slots [firstNew, count) of every per-tile attribute, and the
 * recoloured slots (individually, or one covering range when there are many). `floatsPerTile` is the number of
 * array entries one tile occupies in that attribute.
 */
export function queueUploads(
  appended: readonly { attribute: BufferAttribute | InterleavedBufferAttribute; floatsPerTile: number }[],
  color: { attribute: BufferAttribute; floatsPerTile: number },
  firstNew: number,
  count: number,
  recolored: readonly number[],
): void {
  if (count > firstNew) {
    for (const { attribute, floatsPerTile } of appended) {
      (attribute as BufferAttribute).addUpdateRange(firstNew * floatsPerTile, (count - firstNew) * floatsPerTile);
      attribute.needsUpdate = true;
    }
  }
  const stride = color.floatsPerTile;
  if (recolored.length > MAX_COLOR_RANGES) {
    let min = Infinity;
    let max = -Infinity;
    for (const i of recolored) {
      if (i < min) min = i;
      if (i > max) max = i;
    }
    color.attribute.addUpdateRange(min * stride, (max - min + 1) * stride);
    color.attribute.needsUpdate = true;
  } else if (recolored.length > 0) {
    for (const i of recolored) color.attribute.addUpdateRange(i * stride, stride);
    color.attribute.needsUpdate = true;
  }
}
