/**
 * The renderer interface both drawing paths implement (WebGL2, canvas 2D), on a canvas of the page or on
 * an `OffscreenCanvas` in the render worker. Renderers know texels and scenes, not frames or the DOM.
 */
import type { ColormapName, ContrastLimits } from './colormap.js';
import type { Placement } from './placement.js';
import type { TexelFormat, Texels } from './texels.js';
import type { VisibleRect } from './viewport.js';

/** What to draw the uploaded frame as: canvas size, which source rectangle it shows, where the frame lies in it, how to colour it. */
export interface Scene {
  /** Canvas size in device pixels (the renderer sizes its canvas to it). */
  width: number;
  height: number;
  visible: VisibleRect;
  placement: Placement;
  limits: ContrastLimits;
  colormap: ColormapName;
}

export type RendererKind = 'webgl2' | 'canvas2d';

/** A canvas a renderer can draw on: the page's, or one handed to a worker. */
export type AnyCanvas = HTMLCanvasElement | OffscreenCanvas;

export interface ImageRenderer {
  readonly kind: RendererKind;
  /** The texel formats it uploads as they are; the caller converts others to float32 (`toFloat32`). */
  readonly formats: readonly TexelFormat[];
  /** How the last upload is held, for read-outs: `R32F`, `R16F (half float)`, `R8UI`, `R16UI`, `RGBA8 (CPU colouring)`. */
  readonly texture: string;
  upload(texels: Texels): void;
  /** Draws the uploaded frame onto the whole canvas. */
  render(scene: Scene): void;
  dispose(): void;
}

/** The canvas where no frame pixel lies (outside the array, or outside the region the frame covers). */
export const BACKGROUND = [17, 17, 17] as const;

export function sizeCanvas(canvas: AnyCanvas, width: number, height: number): void {
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
}
