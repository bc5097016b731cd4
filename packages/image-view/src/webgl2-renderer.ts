/**
 * The fast path: the frame goes to the GPU in the form it arrived in — float32 as an `R32F` texture,
 * float16 bits as `R16F` (`HALF_FLOAT`), uint8/uint16 codes as `R8UI`/`R16UI` integer textures whose
 * scale, offset and NaN code the shader applies — so the CPU only hands the bytes to `texSubImage2D`.
 * A fragment shader finds, for each canvas pixel, the source pixel under it and the texel that holds it
 * (the frame covers `placement.region` of the source, `stepY` × `stepX` source pixels per texel), and maps it through the
 * contrast limits and a 256-entry colour-map texture. A zoom or pan redraws without uploading again.
 */
import { LUT_SIZE, colormapLut, type ColormapName } from './colormap.js';
import { BACKGROUND, sizeCanvas, type AnyCanvas, type ImageRenderer } from './renderer.js';
import type { TexelFormat } from './texels.js';

const VERTEX_SHADER = `#version 300 es
out vec2 uv;
void main() {
  // One triangle covering the viewport; uv (0,0) is the canvas's top left (row 0 of the image at the top).
  vec2 corner = vec2(float((gl_VertexID & 1) << 2), float((gl_VertexID & 2) << 1));
  uv = vec2(corner.x * 0.5, 1.0 - corner.y * 0.5);
  gl_Position = vec4(corner - 1.0, 0.0, 1.0);
}`;

/**
 * One fragment shader, two samplers: `float` textures (R32F, R16F) hold values; `uint` ones (R8UI,
 * R16UI) hold codes. Same colouring rule as colormap.ts `renderToRgba`:
 * index = round(clamp((v − low) / (high − low)) × 255); NaN → 0.
 */
function fragmentShader(kind: 'float' | 'uint'): string {
  const sampler = kind === 'float' ? 'sampler2D' : 'usampler2D';
  const read = kind === 'float'
    ? `float value = texelFetch(image, texel, 0).r;
  bool missing = isnan(value);`
    : `uint code = texelFetch(image, texel, 0).r;
  bool missing = int(code) == nanCode;
  float value = float(code) * coding.x + coding.y;`;
  return `#version 300 es
precision highp float;
precision highp ${sampler};
precision highp sampler2D;
uniform ${sampler} image;
uniform sampler2D lut;
uniform vec2 limits;
uniform vec4 visible;  // x0, y0, width, height of the source rectangle the canvas shows
uniform vec4 placed;   // x0, y0, x1, y1 of the source region the frame covers
uniform vec2 step;     // source pixels per texel (x, y): whole for blocks, fractional for area views
uniform vec2 coding;   // uint codes: scale, offset
uniform int nanCode;   // uint codes: the code that stands for NaN, -1 for none
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
  ${read}
  float t;
  if (limits.y > limits.x) t = clamp((value - limits.x) / (limits.y - limits.x), 0.0, 1.0);
  else t = value >= limits.y ? 1.0 : 0.0;
  if (missing) t = 0.0;
  color = texelFetch(lut, ivec2(int(floor(t * 255.0 + 0.5)), 0), 0);
}`;
}

/** How each texel format is held on the GPU (all core WebGL2: no extension needed). */
const TEXTURE_FORMATS: Record<TexelFormat, { program: 'float' | 'uint'; internal: 'R32F' | 'R16F' | 'R8UI' | 'R16UI'; format: 'RED' | 'RED_INTEGER'; type: 'FLOAT' | 'HALF_FLOAT' | 'UNSIGNED_BYTE' | 'UNSIGNED_SHORT'; label: string }> = {
  float32: { program: 'float', internal: 'R32F', format: 'RED', type: 'FLOAT', label: 'R32F' },
  float16: { program: 'float', internal: 'R16F', format: 'RED', type: 'HALF_FLOAT', label: 'R16F (half float)' },
  uint16: { program: 'uint', internal: 'R16UI', format: 'RED_INTEGER', type: 'UNSIGNED_SHORT', label: 'R16UI (codes)' },
  uint8: { program: 'uint', internal: 'R8UI', format: 'RED_INTEGER', type: 'UNSIGNED_BYTE', label: 'R8UI (codes)' },
};

function compile(gl: WebGL2RenderingContext, type: number, source: string): WebGLShader {
  const shader = gl.createShader(type);
  if (!shader) throw new Error('WebGL2: cannot create a shader');
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) throw new Error(`WebGL2 shader: ${gl.getShaderInfoLog(shader) ?? 'compile error'}`);
  return shader;
}

interface Program {
  program: WebGLProgram;
  uniform(name: string): WebGLUniformLocation | null;
}

function link(gl: WebGL2RenderingContext, vertex: WebGLShader, fragmentSource: string): Program {
  const program = gl.createProgram();
  if (!program) throw new Error('WebGL2: cannot create a program');
  gl.attachShader(program, vertex);
  gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, fragmentSource));
  gl.linkProgram(program);
  if (!gl.getProgramParameter(program, gl.LINK_STATUS)) throw new Error(`WebGL2 program: ${gl.getProgramInfoLog(program) ?? 'link error'}`);
  const locations = new Map<string, WebGLUniformLocation | null>();
  return {
    program,
    uniform(name) {
      if (!locations.has(name)) locations.set(name, gl.getUniformLocation(program, name));
      return locations.get(name)!;
    },
  };
}

export interface WebGl2RendererOptions {
  /**
   * Upload float16, uint8 and uint16 texels as they are (R16F, R8UI, R16UI); false: only float32, and
   * the caller converts the others on the CPU (the path before native formats, kept for comparison).
   * @default true
   */
  nativeFormats?: boolean;
  /** Keep the drawn picture in the drawing buffer (tests read it back). @default false */
  preserveDrawingBuffer?: boolean;
}

/** A WebGL2 renderer on `canvas`, or undefined when there is no WebGL2 (or it fails to set up). */
export function createWebGl2Renderer(canvas: AnyCanvas, options: WebGl2RendererOptions = {}): ImageRenderer | undefined {
  const gl = canvas.getContext('webgl2', { antialias: false, depth: false, stencil: false, alpha: false, preserveDrawingBuffer: options.preserveDrawingBuffer ?? false }) as WebGL2RenderingContext | null;
  if (!gl) return undefined;
  try {
    const vertex = compile(gl, gl.VERTEX_SHADER, VERTEX_SHADER);
    const programs = { float: link(gl, vertex, fragmentShader('float')), uint: link(gl, vertex, fragmentShader('uint')) };
    const vao = gl.createVertexArray();
    gl.bindVertexArray(vao);

    const makeTexture = (unit: number): WebGLTexture => {
      const texture = gl.createTexture();
      if (!texture) throw new Error('WebGL2: cannot create a texture');
      gl.activeTexture(gl.TEXTURE0 + unit);
      gl.bindTexture(gl.TEXTURE_2D, texture);
      // Float and integer textures are not filterable (without extensions); texelFetch needs no filtering.
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
      return texture;
    };
    // One texture per program's sampler type (a float and an integer texture cannot share a unit's binding meaningfully).
    const imageTextures = { float: makeTexture(0), uint: makeTexture(2) };
    const lutTexture = makeTexture(1);
    for (const [kind, { program, uniform }] of Object.entries(programs)) {
      gl.useProgram(program);
      gl.uniform1i(uniform('image'), kind === 'float' ? 0 : 2);
      gl.uniform1i(uniform('lut'), 1);
      gl.uniform3f(uniform('background'), BACKGROUND[0] / 255, BACKGROUND[1] / 255, BACKGROUND[2] / 255);
    }
    // Rows are tightly packed in every format (a uint8 row of odd width is not 4-byte aligned).
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);

    const formats: readonly TexelFormat[] = options.nativeFormats === false ? ['float32'] : ['float32', 'float16', 'uint16', 'uint8'];
    /** What each texture holds now: its internal format and size, so a same-shaped frame only updates it. */
    const held = { float: '', uint: '' };
    let current: { program: 'float' | 'uint'; scale: number; offset: number; nanCode: number } | undefined;
    let label = 'R32F';
    let lutName: ColormapName | undefined;
    return {
      kind: 'webgl2',
      formats,
      get texture() {
        return label;
      },
      upload(texels) {
        const spec = TEXTURE_FORMATS[texels.format];
        if (!formats.includes(texels.format)) throw new Error(`WebGL2 renderer: ${texels.format} texels are converted by the caller`);
        const { width, height } = texels;
        gl.activeTexture(spec.program === 'float' ? gl.TEXTURE0 : gl.TEXTURE2);
        gl.bindTexture(gl.TEXTURE_2D, imageTextures[spec.program]);
        const shape = `${spec.internal} ${width}x${height}`;
        if (held[spec.program] !== shape) {
          gl.texImage2D(gl.TEXTURE_2D, 0, gl[spec.internal], width, height, 0, gl[spec.format], gl[spec.type], texels.data, 0);
          held[spec.program] = shape;
        } else {
          gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, width, height, gl[spec.format], gl[spec.type], texels.data, 0);
        }
        current = { program: spec.program, scale: texels.scale, offset: texels.offset, nanCode: texels.nanCode };
        label = spec.label;
      },
      render({ width, height, visible, placement, limits, colormap }) {
        sizeCanvas(canvas, width, height);
        if (lutName !== colormap) {
          gl.activeTexture(gl.TEXTURE1);
          gl.bindTexture(gl.TEXTURE_2D, lutTexture);
          gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, LUT_SIZE, 1, 0, gl.RGBA, gl.UNSIGNED_BYTE, colormapLut(colormap));
          lutName = colormap;
        }
        gl.viewport(0, 0, width, height);
        if (current === undefined) {
          gl.clearColor(BACKGROUND[0] / 255, BACKGROUND[1] / 255, BACKGROUND[2] / 255, 1);
          gl.clear(gl.COLOR_BUFFER_BIT);
          return;
        }
        const { program, uniform } = programs[current.program];
        gl.useProgram(program);
        const { region, stepX, stepY } = placement;
        gl.uniform2f(uniform('limits'), limits[0], limits[1]);
        gl.uniform4f(uniform('visible'), visible.x0, visible.y0, visible.x1 - visible.x0, visible.y1 - visible.y0);
        gl.uniform4f(uniform('placed'), region.x0, region.y0, region.x1, region.y1);
        gl.uniform2f(uniform('step'), stepX, stepY);
        if (current.program === 'uint') {
          gl.uniform2f(uniform('coding'), current.scale, current.offset);
          gl.uniform1i(uniform('nanCode'), current.nanCode);
        }
        gl.drawArrays(gl.TRIANGLES, 0, 3);
      },
      dispose() {
        gl.deleteTexture(imageTextures.float);
        gl.deleteTexture(imageTextures.uint);
        gl.deleteTexture(lutTexture);
        gl.deleteProgram(programs.float.program);
        gl.deleteProgram(programs.uint.program);
        gl.getExtension('WEBGL_lose_context')?.loseContext();
      },
    };
  } catch (error) {
    console.warn('image view: WebGL2 set-up failed, using the canvas fallback', error);
    return undefined;
  }
}
