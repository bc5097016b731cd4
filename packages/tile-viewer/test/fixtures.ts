/** Polls shaped exactly like napari 0.4.x sends them (decimal-string layer ids, plain arrays). */
import type { LayerData, Poll, TileConfig } from '@webmon/napari';

/** Level 0 of a 2950 x 2980 image in 100-px tiles: 30 x 30 tiles, the last row (50 px) and column (80 px) clipped. */
export const LEVEL0: TileConfig = {
  base_shape: [2950, 2980],
  image_shape: [2950, 2980],
  shape_in_tiles: [30, 30],
  tile_size: 100,
  level_index: 0,
};

/** Level 1 of the same image: 15 x 15 tiles. */
export const LEVEL1: TileConfig = {
  base_shape: [2950, 2980],
  image_shape: [1475, 1490],
  shape_in_tiles: [15, 15],
  tile_size: 100,
  level_index: 1,
};

/** Seen tiles: a 2 x 2 block inside the frustum and one tile left of it. */
export const SEEN0: [number, number][] = [
  [26, 25],
  [26, 26],
  [27, 25],
  [27, 26],
  [27, 22],
];

/** Frustum over rows 25.5–28 and columns 24.5–27.5 (base-level data coordinates, [y, x]). */
export const CORNERS0: [[number, number], [number, number]] = [
  [2550, 2450],
  [2800, 2750],
];

export const LAYER_ID = '140234567890123';
export const OTHER_LAYER_ID = '140234567890999';

export function layer(config: TileConfig, seen: [number, number][], corners: [[number, number], [number, number]]): LayerData {
  return { tile_config: config, tile_state: { seen, corners } };
}

export function pollOf(layers: Record<string, LayerData>): Poll {
  return { layers };
}

/** Content-space centre of tile (row, col) of a level (x right, y down, longer side of the level = 1). */
export function tileCentre(config: TileConfig, row: number, col: number): [number, number] {
  const longer = Math.max(config.image_shape[0] as number, config.image_shape[1] as number);
  const ts = config.tile_size;
  const x0 = col * ts;
  const y0 = row * ts;
  const x1 = Math.min(x0 + ts, config.image_shape[1] as number);
  const y1 = Math.min(y0 + ts, config.image_shape[0] as number);
  return [(x0 + x1) / 2 / longer, (y0 + y1) / 2 / longer];
}

/** Content-space point of level pixel (y, x). */
export function levelPoint(config: TileConfig, y: number, x: number): [number, number] {
  const longer = Math.max(config.image_shape[0] as number, config.image_shape[1] as number);
  return [x / longer, y / longer];
}

/** A square block of seen tiles, `side` x `side`, top-left at (row, col). */
export function block(row: number, col: number, side: number): [number, number][] {
  const tiles: [number, number][] = [];
  for (let r = row; r < row + side; r++) for (let c = col; c < col + side; c++) tiles.push([r, c]);
  return tiles;
}
