/**
 * Where frames are drawn: a renderer on the page's canvas (main thread). Picks WebGL2, or the canvas 2D
 * fallback, and converts texels the renderer cannot take as they are to float32 on the CPU.
 */
import { ImageViewError, ImageViewErrorCode } from './errors.js';
import { createCanvasRenderer } from './canvas-renderer.js';
import type { AnyCanvas, ImageRenderer, RendererKind, Scene } from './renderer.js';
import { toFloat32, type Texels } from './texels.js';
import { createWebGl2Renderer } from './webgl2-renderer.js';

export interface DrawTargetOptions {
  renderer: 'auto' | RendererKind;
  nativeTextures: boolean;
  preserveDrawingBuffer: boolean;
}

export interface DrawTarget {
  readonly kind: RendererKind;
  readonly texture: string;
  readonly worker: boolean;
  /** Uploads `texels` (when given) and draws the scene; a promise when the drawing finishes later (a worker). */
  draw(texels: Texels | undefined, scene: Scene): Promise<void> | void;
  dispose(): void;
}

/** The renderer the options ask for on `canvas`; throws `IMAGE_VIEW_NO_RENDERER` when there is none. */
export function createRenderer(canvas: AnyCanvas, options: DrawTargetOptions): ImageRenderer {
  const renderer =
    (options.renderer !== 'canvas2d' ? createWebGl2Renderer(canvas, { nativeFormats: options.nativeTextures, preserveDrawingBuffer: options.preserveDrawingBuffer }) : undefined) ??
    (options.renderer !== 'webgl2' ? createCanvasRenderer(canvas) : undefined);
  if (!renderer) throw new ImageViewError(ImageViewErrorCode.NO_RENDERER, `image view: no ${options.renderer === 'auto' ? 'WebGL2 or 2D' : options.renderer} context for the canvas`);
  return renderer;
}

/** Draws with `renderer`, converting texels it does not take to float32 into one reused buffer. */
export function drawWith(renderer: ImageRenderer): (texels: Texels | undefined, scene: Scene) => void {
  let scratch: Float32Array | undefined;
  return (texels, scene) => {
    if (texels) {
      if (renderer.formats.includes(texels.format)) renderer.upload(texels);
      else {
        const converted = toFloat32(texels, scratch);
        scratch = converted.data as Float32Array;
        renderer.upload(converted);
      }
    }
    renderer.render(scene);
  };
}

export function createDrawTarget(canvas: HTMLCanvasElement, options: DrawTargetOptions): DrawTarget {
  const renderer = createRenderer(canvas, options);
  const draw = drawWith(renderer);
  return {
    kind: renderer.kind,
    get texture() {
      return renderer.texture;
    },
    worker: false,
    draw,
    dispose: () => renderer.dispose(),
  };
}
