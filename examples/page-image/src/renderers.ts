/**
 * Two ways to draw a float32 image with a colour map and contrast limits:
 * - WebGL2 (the fast path): the Float32Array goes to the GPU as it arrived, as an `R32F` texture; a
 *   fragment shader maps each texel through the contrast limits and a 256-entry colour-map texture.
 *   Per frame the CPU only hands the bytes to `texSubImage2D`.
 * - Canvas 2D (fallback when WebGL2 is unavailable): `renderToRgba` on the CPU, then `putImageData`.
 */
import { LUT_SIZE, colormapLut, renderToRgba, type ColormapName, type ContrastLimits } from './colormap.js';

export interface ImageRenderer {
  readonly kind: 'webgl2' | 'canvas2d';
  /** Draws one frame (`data.length` ≥ width × height, row-major, row 0 at the top). */
  draw(data: Float32Array, width: number, height: number, limits: ContrastLimits, colormap: ColormapName): void;
  dispose(): void;
}

const VERTEX_SHADER = `#version 300 es
out vec2 uv;
void main() {
  // One triangle covering the viewport; uv (0,0) is the image's first row, drawn at the top.
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
in vec2 uv;
out vec4 color;
void main() {
  ivec2 size = textureSize(image, 0);
  ivec2 texel = clamp(ivec2(uv * vec2(size)), ivec2(0), size - 1);
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
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 4);

    let textureSize: [number, number] = [0, 0];
    let lutName: ColormapName | undefined;
    return {
      kind: 'webgl2',
      draw(data, width, height, limits, colormap) {
        if (lutName !== colormap) {
          gl.activeTexture(gl.TEXTURE1);
          gl.bindTexture(gl.TEXTURE_2D, lutTexture);
          gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, LUT_SIZE, 1, 0, gl.RGBA, gl.UNSIGNED_BYTE, colormapLut(colormap));
          lutName = colormap;
        }
        gl.activeTexture(gl.TEXTURE0);
        gl.bindTexture(gl.TEXTURE_2D, imageTexture);
        if (textureSize[0] !== width || textureSize[1] !== height) {
          gl.texImage2D(gl.TEXTURE_2D, 0, gl.R32F, width, height, 0, gl.RED, gl.FLOAT, data, 0);
          textureSize = [width, height];
        } else {
          gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, width, height, gl.RED, gl.FLOAT, data, 0);
        }
        if (canvas.width !== width || canvas.height !== height) {
          canvas.width = width;
          canvas.height = height;
        }
        gl.viewport(0, 0, width, height);
        gl.uniform2f(limitsLocation, limits[0], limits[1]);
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

/** The CPU fallback: a colour-mapped RGBA copy per frame, drawn with `putImageData`. */
export function createCanvasRenderer(canvas: HTMLCanvasElement): ImageRenderer {
  const context = canvas.getContext('2d');
  if (!context) throw new Error('image page: neither WebGL2 nor a 2D canvas is available');
  let image: ImageData | undefined;
  const luts = new Map<ColormapName, Uint8Array>();
  return {
    kind: 'canvas2d',
    draw(data, width, height, limits, colormap) {
      if (!image || image.width !== width || image.height !== height) {
        canvas.width = width;
        canvas.height = height;
        image = context.createImageData(width, height);
      }
      let lut = luts.get(colormap);
      if (!lut) luts.set(colormap, (lut = colormapLut(colormap)));
      renderToRgba(data, limits, lut, image.data);
      context.putImageData(image, 0, 0);
    },
    dispose() {
      image = undefined;
    },
  };
}
