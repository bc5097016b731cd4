// @webmon/tile-viewer — which octree tiles napari draws, as one instanced three.js picture.

// Widget
export { createTileViewer } from './tile-viewer.js';
export type {
  LevelInfo,
  RenderMode,
  TileGeometry,
  TileHit,
  TileViewer,
  TileViewerColors,
  TileViewerCommand,
  TileViewerEvents,
  TileViewerOptions,
  TileViewerStats,
} from './tile-viewer.js';
export type { ViewState } from './view-fit.js';

// Errors
export { TileViewerError, TileViewerErrorCode, isTileViewerError } from './errors.js';

// Renderer-agnostic core (level geometry and the seen/context diff), for hosts that draw with something else
export { checkTileState, frustumRect, layoutLevel, levelRect, tileAt, tileRect } from './level-layout.js';
export type { CheckedTileState, LevelLayout, Rect } from './level-layout.js';
export { TileSet } from './tile-set.js';
export type { ApplyResult, TileBounds, TileSetOptions, TileSink } from './tile-set.js';
