/**
 * Stable codes of every error the tile viewer throws; all listed in the README. Values carry the package
 * prefix `TILE_VIEWER_` (as `ws` uses `WS_ERR_`); keys are the short names callers compare against.
 */
export const TileViewerErrorCode = {
  /** An option passed to `createTileViewer` is out of range or of the wrong type. */
  INVALID_OPTIONS: 'TILE_VIEWER_INVALID_OPTIONS',
  /** `update()` got something that is not a poll (`{ layers: { [id]: LayerData } }`). */
  INVALID_POLL: 'TILE_VIEWER_INVALID_POLL',
  /** The selected layer's `tile_config` is malformed (shapes, tile size, level). */
  INVALID_TILE_CONFIG: 'TILE_VIEWER_INVALID_TILE_CONFIG',
  /** The selected layer's `tile_state` is malformed or names a tile outside the level. */
  INVALID_TILE_STATE: 'TILE_VIEWER_INVALID_TILE_STATE',
  /** A level has more than 2^53 tiles: its tiles cannot be keyed exactly. */
  LEVEL_TOO_LARGE: 'TILE_VIEWER_LEVEL_TOO_LARGE',
  /** `selectLayer()` named a layer the last poll did not carry (or that has no `tile_config`). */
  UNKNOWN_LAYER: 'TILE_VIEWER_UNKNOWN_LAYER',
  /** The browser refused to create a WebGL context. */
  WEBGL_UNAVAILABLE: 'TILE_VIEWER_WEBGL_UNAVAILABLE',
  /** A method was called after `dispose()`. */
  DISPOSED: 'TILE_VIEWER_DISPOSED',
} as const;
export type TileViewerErrorCode = (typeof TileViewerErrorCode)[keyof typeof TileViewerErrorCode];

/** Every error thrown by the tile viewer. The viewer's state is unchanged when one is thrown. */
export class TileViewerError extends Error {
  override readonly name = 'TileViewerError';
  readonly code: TileViewerErrorCode;

  constructor(code: TileViewerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isTileViewerError(value: unknown): value is TileViewerError {
  return value instanceof TileViewerError;
}
