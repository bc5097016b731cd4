/**
 * Where things are in the picture: napari's level and frustum mapped to the viewer's unit square.
 * Pure math, no three.js, so it is tested in Node and shared by the renderer and the hover read-out.
 *
 * Coordinates ("content" space): x to the right, y **down** (like napari), the level's longer side = 1.
 */
import type { LayerData, TileConfig, TileState } from '@webmon/napari';
import { TileViewerError, TileViewerErrorCode } from './errors.js';

/** One octree level, reduced to what the viewer draws. */
export interface LevelLayout {
  readonly levelIndex: number;
  /** Level image size in pixels (rows, cols). */
  readonly imageRows: number;
  readonly imageCols: number;
  /** Tiles per axis at this level. */
  readonly rowsInTiles: number;
  readonly colsInTiles: number;
  readonly tileSize: number;
  /** Level pixels → content units: 1 / the level image's longer side. */
  readonly levelScale: number;
  /** Base-level data coordinates → content units: 1 / the base image's longer side. */
  readonly baseScale: number;
  /** Identity of the level: a different key means a fresh grid. */
  readonly key: string;
}

/** An axis-aligned rectangle in content space. */
export interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

const MAX_EXACT_TILES = Number.MAX_SAFE_INTEGER;

function isPositiveInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function readShape(config: Record<string, unknown>, field: string): [number, number] {
  const shape = config[field];
  if (!Array.isArray(shape) || shape.length < 2 || !isPositiveInt(shape[0]) || !isPositiveInt(shape[1])) {
    throw new TileViewerError(TileViewerErrorCode.INVALID_TILE_CONFIG, `tile_config.${field} must start with two positive integers (rows, cols), got ${preview(shape)}`);
  }
  return [shape[0], shape[1]];
}

/** Validates a `tile_config` and lays its level out; throws `TileViewerError` on bad input. */
export function layoutLevel(config: TileConfig | undefined): LevelLayout {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new TileViewerError(TileViewerErrorCode.INVALID_TILE_CONFIG, `tile_config must be an object, got ${preview(config)}`);
  }
  const record = config as unknown as Record<string, unknown>;
  const [baseRows, baseCols] = readShape(record, 'base_shape');
  const [imageRows, imageCols] = readShape(record, 'image_shape');
  const [rowsInTiles, colsInTiles] = readShape(record, 'shape_in_tiles');
  const tileSize = record['tile_size'];
  if (!isPositiveInt(tileSize)) {
    throw new TileViewerError(TileViewerErrorCode.INVALID_TILE_CONFIG, `tile_config.tile_size must be a positive integer, got ${preview(tileSize)}`);
  }
  const levelIndex = record['level_index'];
  if (typeof levelIndex !== 'number' || !Number.isSafeInteger(levelIndex) || levelIndex < 0) {
    throw new TileViewerError(TileViewerErrorCode.INVALID_TILE_CONFIG, `tile_config.level_index must be a non-negative integer, got ${preview(levelIndex)}`);
  }
  // Tiles are keyed by row * cols + col; beyond 2^53 that key would collide.
  if (rowsInTiles * colsInTiles > MAX_EXACT_TILES) {
    throw new TileViewerError(TileViewerErrorCode.LEVEL_TOO_LARGE, `level ${levelIndex} has ${rowsInTiles} x ${colsInTiles} tiles, more than 2^53`);
  }
  return {
    levelIndex,
    imageRows,
    imageCols,
    rowsInTiles,
    colsInTiles,
    tileSize,
    levelScale: 1 / Math.max(imageRows, imageCols),
    baseScale: 1 / Math.max(baseRows, baseCols),
    key: `${levelIndex}:${imageRows}x${imageCols}:${rowsInTiles}x${colsInTiles}:${tileSize}:${baseRows}x${baseCols}`,
  };
}

/** The checked content of a `tile_state`: seen tiles as a flat `[row0, col0, row1, col1, …]`. */
export interface CheckedTileState {
  readonly seen: Int32Array | Float64Array;
  readonly seenCount: number;
  readonly frustum: Rect | null;
}

/**
 * Validates a `tile_state` against its level: every seen tile must lie inside `shape_in_tiles`,
 * corners must be finite. Throws `TileViewerError` `INVALID_TILE_STATE`.
 */
export function checkTileState(layout: LevelLayout, state: TileState | undefined): CheckedTileState {
  if (state === undefined) return { seen: new Int32Array(0), seenCount: 0, frustum: null };
  if (typeof state !== 'object' || state === null || Array.isArray(state)) {
    throw new TileViewerError(TileViewerErrorCode.INVALID_TILE_STATE, `tile_state must be an object, got ${preview(state)}`);
  }
  const seenList: unknown = state.seen;
  if (!Array.isArray(seenList)) {
    throw new TileViewerError(TileViewerErrorCode.INVALID_TILE_STATE, `tile_state.seen must be an array of [row, col], got ${preview(seenList)}`);
  }
  // Tile indices fit Int32 unless a level is wider than 2^31 tiles (the protocol allows exactly up to that).
  const wide = layout.rowsInTiles > 0x7fffffff || layout.colsInTiles > 0x7fffffff;
  const seen = wide ? new Float64Array(seenList.length * 2) : new Int32Array(seenList.length * 2);
  for (let i = 0; i < seenList.length; i++) {
    const tile: unknown = seenList[i];
    if (!Array.isArray(tile) || tile.length !== 2) {
      throw new TileViewerError(TileViewerErrorCode.INVALID_TILE_STATE, `tile_state.seen[${i}] must be [row, col], got ${preview(tile)}`);
    }
    const row: unknown = tile[0];
    const col: unknown = tile[1];
    if (!isIndex(row, layout.rowsInTiles) || !isIndex(col, layout.colsInTiles)) {
      throw new TileViewerError(
        TileViewerErrorCode.INVALID_TILE_STATE,
        `tile_state.seen[${i}] = ${preview(tile)} is outside level ${layout.levelIndex} (${layout.rowsInTiles} x ${layout.colsInTiles} tiles)`,
      );
    }
    seen[2 * i] = row;
    seen[2 * i + 1] = col;
  }
  return { seen, seenCount: seenList.length, frustum: frustumRect(layout, state.corners) };
}

function isIndex(value: unknown, size: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < size;
}

/** The view frustum in content space, from `corners` in base-level data coordinates `[[y0, x0], [y1, x1]]`. */
export function frustumRect(layout: LevelLayout, corners: unknown): Rect {
  const ok =
    Array.isArray(corners) &&
    corners.length === 2 &&
    corners.every((point: unknown) => Array.isArray(point) && point.length === 2 && point.every((v: unknown) => typeof v === 'number' && Number.isFinite(v)));
  if (!ok) {
    throw new TileViewerError(TileViewerErrorCode.INVALID_TILE_STATE, `tile_state.corners must be [[y0, x0], [y1, x1]] of finite numbers, got ${preview(corners)}`);
  }
  const [[ya, xa], [yb, xb]] = corners as [[number, number], [number, number]];
  const s = layout.baseScale;
  return { x0: Math.min(xa, xb) * s, y0: Math.min(ya, yb) * s, x1: Math.max(xa, xb) * s, y1: Math.max(ya, yb) * s };
}

/**
 * The rectangle tile (row, col) covers: pixels [row*ts, min((row+1)*ts, imageRows)) of the level, so the last
 * row and column of tiles are clipped to the image. Writes into `out` to keep the per-tile path allocation-free.
 */
export function tileRect(layout: LevelLayout, row: number, col: number, out: Rect): Rect {
  const ts = layout.tileSize;
  const s = layout.levelScale;
  out.x0 = col * ts * s;
  out.y0 = row * ts * s;
  // A tile napari lists beyond the image (a shape_in_tiles larger than the image needs) gets zero size.
  out.x1 = Math.max(out.x0, Math.min((col + 1) * ts, layout.imageCols) * s);
  out.y1 = Math.max(out.y0, Math.min((row + 1) * ts, layout.imageRows) * s);
  return out;
}

/** The tile under a content-space point, or null outside the level. */
export function tileAt(layout: LevelLayout, x: number, y: number): { row: number; col: number } | null {
  const px = x / layout.levelScale;
  const py = y / layout.levelScale;
  if (!(px >= 0 && py >= 0 && px < layout.imageCols && py < layout.imageRows)) return null;
  const row = Math.floor(py / layout.tileSize);
  const col = Math.floor(px / layout.tileSize);
  if (row >= layout.rowsInTiles || col >= layout.colsInTiles) return null;
  return { row, col };
}

/** The level rectangle in content space. */
export function levelRect(layout: LevelLayout): Rect {
  return { x0: 0, y0: 0, x1: layout.imageCols * layout.levelScale, y1: layout.imageRows * layout.levelScale };
}

/** The layer's data if it is an octree image layer (has a `tile_config`). */
export function isOctreeLayer(data: LayerData | undefined): boolean {
  return typeof data === 'object' && data !== null && typeof data.tile_config === 'object' && data.tile_config !== null;
}

function preview(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
