/** Upper bounds that keep one message from exhausting a browser; far above what napari draws. */
export const NapariLimits = {
  /** Seen tiles per layer per frame. A 4K screen of 64-px tiles is ~2,000. */
  maxSeenTiles: 262_144,
  /** Layers in one poll. */
  maxLayers: 1_024,
  /** Length of a layer id. */
  maxLayerIdLength: 128,
  /** Tiles per axis of one level (2^31: the largest napari image is far below). */
  maxTilesPerAxis: 2 ** 31,
} as const;
