/**
 * What the viewer needs from a tile renderer: a `TileSink` (filled by `TileSet`) that can upload its changes,
 * recolour everything and free its GPU buffers. Two implementations, both one draw call for all tiles:
 * `MergedTiles` (default) and `InstancedTiles`.
 */
import { Color, type BufferAttribute, type InterleavedBufferAttribute } from 'three';
import { tileRect, type LevelLayout, type Rect } from './level-layout.js';
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

/** A per-tile GPU attribute and how many array entries one tile occupies in it. */
export interface TileAttribute {
  attribute: BufferAttribute | InterleavedBufferAttribute;
  floatsPerTile: number;
}

const MIN_CAPACITY = 1024;

/**
 * The bookkeeping both renderers share: slots, seen bits, colours, growth by doubling and the dirty state
 * that lets a frame upload only what changed. Subclasses say how one tile is written into their buffers.
 */
export abstract class TileBuffers implements TileLayer {
  protected capacity = MIN_CAPACITY;
  protected count = 0;
  protected readonly tileColor = new Color();
  protected readonly seenColor = new Color();
  private layout: LevelLayout | null = null;
  private seenBits = new Uint8Array(MIN_CAPACITY);
  private readonly rect: Rect = { x0: 0, y0: 0, x1: 0, y1: 0 };
  /** Gap between tiles as a fraction of the tile size. */
  private readonly gap: number;
  // Dirty state since the last flush.
  private firstNew = 0;
  private readonly recolored: number[] = [];
  private fullUpload = false;

  constructor(options: { gap: number; tileColor: Color; seenColor: Color }) {
    this.gap = options.gap;
    this.tileColor.copy(options.tileColor);
    this.seenColor.copy(options.seenColor);
  }

  get instanceCount(): number {
    return this.count;
  }

  get instanceCapacity(): number {
    return this.capacity;
  }

  setLayout(layout: LevelLayout | null): void {
    this.layout = layout;
  }

  clear(): void {
    this.count = 0;
    this.setDrawCount(0);
    this.firstNew = 0;
    this.recolored.length = 0;
  }

  add(index: number, row: number, col: number, seen: boolean): void {
    if (index >= this.capacity) this.grow(index + 1);
    const layout = this.layout;
    if (layout === null) return;
    const rect = tileRect(layout, row, col, this.rect);
    // The gap is a fraction of a full tile, so clipped edge tiles keep the same spacing as the others.
    this.writeTile(index, rect, (layout.tileSize * layout.levelScale * this.gap) / 2);
    this.seenBits[index] = seen ? 1 : 0;
    this.writeColor(index, seen ? this.seenColor : this.tileColor);
    if (index >= this.count) this.count = index + 1;
    this.setDrawCount(this.count);
  }

  setSeen(index: number, seen: boolean): void {
    this.seenBits[index] = seen ? 1 : 0;
    this.writeColor(index, seen ? this.seenColor : this.tileColor);
    if (index < this.firstNew) this.recolored.push(index);
  }

  /** Changes the two tile colours; every tile is recoloured (rare, O(tiles)). */
  setColors(tileColor: Color, seenColor: Color): void {
    this.tileColor.copy(tileColor);
    this.seenColor.copy(seenColor);
    for (let i = 0; i < this.count; i++) this.writeColor(i, this.seenBits[i] === 1 ? this.seenColor : this.tileColor);
    this.fullUpload = true;
  }

  /** Uploads what changed since the last flush; call right before rendering. */
  flush(): void {
    const { perTile, color } = this.attributes();
    if (this.fullUpload) {
      for (const { attribute } of perTile) {
        (attribute as BufferAttribute).clearUpdateRanges();
        attribute.needsUpdate = true;
      }
    } else {
      queueUploads(perTile, color, this.firstNew, this.count, this.recolored);
    }
    this.fullUpload = false;
    this.recolored.length = 0;
    this.firstNew = this.count;
  }

  abstract dispose(): void;

  /** Writes the geometry of tile `index` covering `rect`, shrunk by `inset` on every side. */
  protected abstract writeTile(index: number, rect: Rect, inset: number): void;
  protected abstract writeColor(index: number, color: Color): void;
  protected abstract setDrawCount(count: number): void;
  /** Every per-tile attribute (uploaded in full or by ranges) and the colour one among them. */
  protected abstract attributes(): { perTile: TileAttribute[]; color: { attribute: BufferAttribute; floatsPerTile: number } };
  /** Replaces the buffers by ones of `capacity` tiles holding the first `count` tiles of the old ones. */
  protected abstract reallocate(capacity: number): void;

  private grow(needed: number): void {
    let capacity = this.capacity;
    while (capacity < needed) capacity *= 2;
    this.reallocate(capacity);
    const bits = new Uint8Array(capacity);
    bits.set(this.seenBits.subarray(0, this.count));
    this.seenBits = bits;
    this.capacity = capacity;
    // New attributes are uploaded whole on first use.
    this.fullUpload = true;
  }
}
