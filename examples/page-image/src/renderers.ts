/**
 * Two ways to draw a float32 image with a colour map and contrast limits, zoomed and panned:
 * - WebGL2 (the fast path): the Float32Array goes to the GPU as it arrived, as an `R32F` texture; a
 *   fragment shader finds, for each canvas pixel, the source pixel under it and the texel that holds it
 *   (the frame covers `placement.region` of the source, `stepY` × `stepX` source pixels per texel), and maps it through the
 *   contrast limits and a 256-entry colour-map texture. Per frame the CPU only hands the bytes to
 *   `texSubImage2D`; a zoom or pan redraws the uploaded texture without touching the data.
 * - Canvas 2D (fallback when WebGL2 is unavailable): `renderToRgba` on the CPU into an offscreen canvas,
 *   then `drawImage` with the zoom and pan as its transform.
 */
import { LUT_SIZE, colormapLut, renderToRgba, type ColormapName, type ContrastLimits } from './colormap.js';
import type { Placement } from './view-data.js';
import type { VisibleRect } from './viewport.js';

/** What to draw the uploaded frame as: which source rectangle the canvas shows, where the frame lies in it, and how to colour it. */
export interface Scene {
  visible: VisibleRect;
  placement: Placement;
  limits: ContrastLimits;
  colormap: ColormapName;
}

export interface ImageRenderer {
  readonly kind: 'webgl2' | 'canvas2d';
  /** Takes one frame's values (`data.length` ≥ width × height, row-major, row 0 at the top). */
  upload(data: Float32Array, width: number, height: number): void;
  /** Draws the uploaded frame onto the whole canvas (its current width × height). */
  render(scene: Scene): void;
  dispose(): void;
}

/** The canvas where no frame pixel lies (outside the array, or outside the region the frame covers). */
const BACKGROUND = [17, 17, 17] as const;

const VERTEX_SHADER = `#version 300 es
out vec2 uv;
void main() {
  // One triangle covering the viewport; uv (0,0) is the canvas's top left (row 0 of the image at the top).
  vec2 corner = vec2(float((gl_VertexID & 1) << 2), float((gl_VertexID & 2) << 1));
  uv = vec2(corner.x * 0.5, 1.0 - corner.y * 0.5);
  gl_Position = vec4(corner - 1.0, 0.0, 1.0);
}`;

// Same rule as colormap.ts `renderToRgba`: index = round(clamp((v − low) / (high − low)) × 255); NaN → 0.
const FRAGMENT_SHADER = `#version 300 es
precision highp float;
precision highp sampler2D;
uniform sampler2D image;
uniform sampler2D lut;
uniform vec2 limits;
uniform vec4 visible;  // x0, y0, width, height of the source rectangle the canvas shows
uniform vec4 placed;   // x0, y0, x1, y1 of the source region the frame covers
uniform vec2 step;     // source pixels per texel (x, y): whole for blocks, fractional for area views
uniform vec3 background;
in vec2 uv;
out vec4 color;
void main() {
  vec2 source = visible.xy + uv * visible.zw;
  if (source.x < placed.x || source.y < placed.y || source.x >= placed.z || source.y >= placed.w) {
    color = vec4(background, 1.0);
    return;
  }
  ivec2 size = textureSize(image, 0);
  ivec2 texel = clamp(ivec2(floor((source - placed.xy) / step)), ivec2(0), size - 1);
  float value = texelFetch(image, texel, 0).r;
  float t;
  if (limits.y > limits.x) t = clamp((value - limits.x) / (limits.y - limits.x), 0.0, 1.0);
  else t = value >= limits.y ? 1.0 : 0.0;
  if (isnan(value)) t = 0.0;
  color = texelFetch(lut, ivec2(int(floor(t * 255.0 + 0.5)), 0), 0);
}`;

function compile(gl: WebGL2RenderingContext, type: number, source: string): WebGLShader {
  const shader = gl.createShader(type);
  if (!shader) throw new Error('WebGL2: cannot create a shader');
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) throw new Error(`WebGL2 shader: ${gl.getShaderInfoLog(shader) ?? 'compile error'}`);
  return shader;
}

/** A WebGL2 renderer on `canvas`, or undefined when the browser has no WebGL2 (or it fails to set up). */
export function createWebGl2Renderer(canvas: HTMLCanvasElement): ImageRenderer | undefined {
  const gl = canvas.getContext('webgl2', { antialias: false, depth: false, stencil: false, alpha: false, preserveDrawingBuffer: false });
  if (!gl) return undefined;
  try {
    const program = gl.createProgram();
    if (!program) throw new Error('WebGL2: cannot create a program');
    gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, VERTEX_SHADER));
    gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, FRAGMENT_SHADER));
    gl.linkProgram(program);
    if (!gl.getProgramParameter(program, gl.LINK_STATUS)) throw new Error(`WebGL2 program: ${gl.getProgramInfoLog(program) ?? 'link error'}`);
    gl.useProgram(program);
    const vao = gl.createVertexArray();
    gl.bindVertexArray(vao);

    const makeTexture = (unit: number): WebGLTexture => {
      const texture = gl.createTexture();
      if (!texture) throw new Error('WebGL2: cannot create a texture');
      gl.activeTexture(gl.TEXTURE0 + unit);
      gl.bindTexture(gl.TEXTURE_2D, texture);
      // R32F is not filterable without an extension; texelFetch needs none of it anyway.
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
      return texture;
    };
    const imageTexture = makeTexture(0);
    const lutTexture = makeTexture(1);
    gl.uniform1i(gl.getUniformLocation(program, 'image'), 0);
    gl.uniform1i(gl.getUniformLocation(program, 'lut'), 1);
    const limitsLocation = gl.getUniformLocation(program, 'limits');
    const visibleLocation = gl.getUniformLocation(program, 'visible');
    const placedLocation = gl.getUniformLocation(program, 'placed');
    const stepLocation = gl.getUniformLocation(program, 'step');
    gl.uniform3f(gl.getUniformLocation(program, 'background'), BACKGROUND[0] / 255, BACKGROUND[1] / 255, BACKGROUND[2] / 255);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 4);

    let textureSize: [number, number] = [0, 0];
    let lutName: ColormapName | undefined;
    return {
      kind: 'webgl2',
      upload(data, width, height) {
        gl.activeTexture(gl.TEXTURE0);
        gl.bindTexture(gl.TEXTURE_2D, imageTexture);
        if (textureSize[0] !== width || textureSize[1] !== height) {
          gl.texImage2D(gl.TEXTURE_2D, 0, gl.R32F, width, height, 0, gl.RED, gl.FLOAT, data, 0);
          textureSize = [width, height];
        } else {
          gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, width, height, gl.RED, gl.FLOAT, data, 0);
        }
      },
      render({ visible, placement, limits, colormap }) {
        if (lutName !== colormap) {
          gl.activeTexture(gl.TEXTURE1);
          gl.bindTexture(gl.TEXTURE_2D, lutTexture);
          gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, LUT_SIZE, 1, 0, gl.RGBA, gl.UNSIGNED_BYTE, colormapLut(colormap));
          lutName = colormap;
        }
        const { region, stepX, stepY } = placement;
        gl.viewport(0, 0, canvas.width, canvas.height);
        gl.uniform2f(limitsLocation, limits[0], limits[1]);
        gl.uniform4f(visibleLocation, visible.x0, visible.y0, visible.x1 - visible.x0, visible.y1 - visible.y0);
        gl.uniform4f(placedLocation, region.x0, region.y0, region.x1, region.y1);
        gl.uniform2f(stepLocation, stepX, stepY);
        gl.drawArrays(gl.TRIANGLES, 0, 3);
      },
      dispose() {
        gl.deleteTexture(imageTexture);
        gl.deleteTexture(lutTexture);
        gl.deleteProgram(program);
        gl.getExtension('WEBGL_lose_context')?.loseContext();
      },
    };
  } catch (error) {
    console.warn('image page: WebGL2 set-up failed, using the canvas fallback', error);
    return undefined;
  }
}

/**
 * The CPU fallback: the frame coloured into RGBA on an offscreen canvas, then drawn scaled (no smoothing:
 * source pixels stay square) where it lies in the shown rectangle.
 */
export function createCanvasRenderer(canvas: HTMLCanvasElement): ImageRenderer {
  const context = canvas.getContext('2d');
  const frameCanvas = document.createElement('canvas');
  const frameContext = frameCanvas.getContext('2d');
  if (!context || !frameContext) throw new Error('image page: neither WebGL2 nor a 2D canvas is available');
  let image: ImageData | undefined;
  let values: Float32Array | undefined;
  const luts = new Map<ColormapName, Uint8Array>();
  return {
    kind: 'canvas2d',
    upload(data, width, height) {
      if (!image || image.width !== width || image.height !== height) {
        frameCanvas.width = width;
        frameCanvas.height = height;
        image = frameContext.createImageData(width, height);
      }
      values = data;
    },
    render({ visible, placement, limits, colormap }) {
      if (!image || !values) return;
      let lut = luts.get(colormap);
      if (!lut) luts.set(colormap, (lut = colormapLut(colormap)));
      renderToRgba(values, limits, lut, image.data);
      frameContext.putImageData(image, 0, 0);
      const scaleX = canvas.width / (visible.x1 - visible.x0);
      const scaleY = canvas.height / (visible.y1 - visible.y0);
      const { region, stepX, stepY } = placement;
      context.fillStyle = `rgb(${BACKGROUND.join(',')})`;
      context.fillRect(0, 0, canvas.width, canvas.height);
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
