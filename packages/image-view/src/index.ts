// @webmon/image-view — a live 2-D array on a canvas: colour map, contrast limits, zoom and pan, and the
// array view to ask for. Framework-agnostic; knows decoded frames and view headers, not the relay.

// Widget
export { createImageView } from './image-view.js';
export type { ImageView, ImageViewOptions, ImageViewReadout, ShowOutcome } from './image-view.js';
export type { ImageFrame } from './texels.js';

// Errors
export { ImageViewError, ImageViewErrorCode, isImageViewError } from './errors.js';

// The pure parts, for hosts that read out or draw otherwise
export { COLORMAP_NAMES, LUT_SIZE, autoContrast, colormapFromMeta, colormapLut, contrastFromMeta, isColormapName, normalize, renderToRgba } from './colormap.js';
export type { ColormapName, ContrastLimits } from './colormap.js';
export { MAX_SCALE, Viewport } from './viewport.js';
export type { VisibleRect } from './viewport.js';
export { placementOf } from './placement.js';
export type { Placement } from './placement.js';
export { imageSize } from './texels.js';
export { FrameStats, formatRate, percentile } from './frame-stats.js';
export type { FrameStatsSnapshot } from './frame-stats.js';
export type { RendererKind } from './renderer.js';
