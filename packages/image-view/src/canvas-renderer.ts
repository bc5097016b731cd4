/**
 * The fallback when WebGL2 is unavailable: the frame coloured into RGBA on the CPU (`renderToRgba`) on
 * a second canvas, then drawn scaled (no smoothing: source pixels stay square) where it lies in the shown
 * rectangle. It takes float32 texels only: the caller converts the others (`toFloat32`). It keeps a copy of
 * the values, not the frame's buffer (see `ImageView.show`).
 */
import { colormapLut, renderToRgba, type ColormapName } from './colormap.js';
import { BACKGROUND, sizeCanvas, type AnyCanvas, type ImageRenderer } from './renderer.js';

type Context2D = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;

/** A second canvas to colour the frame into: an `OffscreenCanvas` where there is one (always in a worker). */
function scratchCanvas(): AnyCanvas {
  return typeof OffscreenCanvas === 'function' ? new OffscreenCanvas(1, 1) : document.createElement('canvas');
}

/** A canvas-2D renderer on `canvas`, or undefined when the canvas gives no 2D context. */
export function createCanvasRenderer(canvas: AnyCanvas): ImageRenderer | undefined {
  const context = canvas.getContext('2d') as Context2D | null;
  const frameCanvas = scratchCanvas();
  const frameContext = frameCanvas.getContext('2d') as Context2D | null;
  if (!context || !frameContext) return undefined;
  let image: ImageData | undefined;
  let values: Float32Array | undefined;
  const luts = new Map<ColormapName, Uint8Array>();
  return {
    kind: 'canvas2d',
    formats: ['float32'],
    texture: 'RGBA8 (CPU colouring)',
    upload(texels) {
      if (texels.format !== 'float32') throw new Error('canvas renderer: only float32 texels (the caller converts)');
      const { width, height } = texels;
      if (!image || image.width !== width || image.height !== height) {
        frameCanvas.width = width;
        frameCanvas.height = height;
        image = frameContext.createImageData(width, height);
      }
      // A copy of its own: a redraw (zoom, colour map) colours again, and by then the frame's buffer is the
      // host's again (given back, moved on). One reused buffer; this path colours every pixel on the CPU anyway.
      const data = texels.data as Float32Array;
      if (values?.length !== data.length) values = new Float32Array(data.length);
      values.set(data);
    },
    render({ width, height, visible, placement, limits, colormap }) {
      sizeCanvas(canvas, width, height);
      context.fillStyle = `rgb(${BACKGROUND.join(',')})`;
      context.fillRect(0, 0, width, height);
      if (!image || !values) return;
      let lut = luts.get(colormap);
      if (!lut) luts.set(colormap, (lut = colormapLut(colormap)));
      renderToRgba(values, limits, lut, image.data);
      frameContext.putImageData(image, 0, 0);
      const scaleX = width / (visible.x1 - visible.x0);
      const scaleY = height / (visible.y1 - visible.y0);
      const { region, stepX, stepY } = placement;
      context.imageSmoothingEnabled = false;
      // The last texel may reach past the region's end (a partial block): clip to the region.
      context.save();
      context.beginPath();
      context.rect((region.x0 - visible.x0) * scaleX, (region.y0 - visible.y0) * scaleY, (region.x1 - region.x0) * scaleX, (region.y1 - region.y0) * scaleY);
      context.clip();
      context.drawImage(frameCanvas, (region.x0 - visible.x0) * scaleX, (region.y0 - visible.y0) * scaleY, image.width * stepX * scaleX, image.height * stepY * scaleY);
      context.restore();
    },
    dispose() {
      image = undefined;
      values = undefined;
    },
  };
}
