/**
 * What a renderer uploads: one frame's values in the form they travel in, so the GPU can read float16
 * bits and uint8/uint16 codes directly (no per-pixel work on the CPU), and the rule that turns any frame
 * into them. Pure: unit-tested, and shared by the main thread and the render worker.
 */
import { float16Value, frameValues, type DecodedFrame, type FrameView } from '@webmon/protocol';
import { ImageViewError, ImageViewErrorCode } from './errors.js';

/** The forms a texture can hold: float32 values, float16 bits, uint8/uint16 codes (value = code × scale + offset). */
export type TexelFormat = 'float32' | 'float16' | 'uint16' | 'uint8';
export const TEXEL_FORMATS: readonly TexelFormat[] = ['float32', 'float16', 'uint16', 'uint8'];

export interface Texels {
  format: TexelFormat;
  /** Row-major, row 0 at the top, at least width × height elements (float16: the half-float bits). */
  data: Float32Array | Uint16Array | Uint8Array;
  width: number;
  height: number;
  /** uint8/uint16: value = code × scale + offset (1 and 0 for a whole uint frame, whose codes are its values). */
  scale: number;
  offset: number;
  /** uint8/uint16 views: the code that stands for NaN (255, 65 535); -1 when every code is a value. */
  nanCode: number;
}

/** What the view draws: a decoded binary frame as page-kit (or `@webmon/relay/client`) delivers it. */
export type ImageFrame = Pick<DecodedFrame, 'data' | 'shape' | 'dtype'> & {
  /** The array view the frame answers (protocol 1.3): where it lies in the source, uint scale and offset. */
  view?: FrameView | undefined;
  /** The producer's metadata: `contrast_limits` and `colormap` are read. */
  meta?: unknown;
};

/** The 2-D image a frame holds: `[rows, cols]`, or `[rows, cols, 1]`; anything else is not drawable here. */
export function imageSize(shape: readonly number[]): { width: number; height: number } | undefined {
  if (shape.length === 2 || (shape.length === 3 && shape[2] === 1)) {
    const [height, width] = shape as [number, number];
    if (Number.isInteger(height) && Number.isInteger(width) && height > 0 && width > 0) return { width, height };
  }
  return undefined;
}

/**
 * The frame's texels in their own form where one exists (float32, float16, uint8, uint16), else read
 * back to float32 (other numeric dtypes of whole frames). Throws `IMAGE_VIEW_INVALID_FRAME` for a frame
 * that is not a 2-D single-channel numeric array with enough data.
 */
export function texelsOf(frame: ImageFrame): Texels {
  const size = imageSize(frame.shape);
  if (size === undefined) throw new ImageViewError(ImageViewErrorCode.INVALID_FRAME, `image view: shape [${frame.shape.join(', ')}] is not a 2-D single-channel image`);
  const { width, height } = size;
  const { data, dtype, view } = frame;
  const base = { width, height, scale: 1, offset: 0, nanCode: -1 };
  let texels: Texels | undefined;
  if (dtype === 'float32' && data instanceof Float32Array) texels = { ...base, format: 'float32', data };
  else if (dtype === 'float16' && data instanceof Uint16Array) texels = { ...base, format: 'float16', data };
  else if ((dtype === 'uint8' && data instanceof Uint8Array) || (dtype === 'uint16' && data instanceof Uint16Array)) {
    const coded = view?.scale !== undefined && view.offset !== undefined;
    texels = {
      ...base,
      format: dtype,
      data,
      scale: coded ? view.scale! : 1,
      offset: coded ? view.offset! : 0,
      nanCode: coded ? (dtype === 'uint8' ? 0xff : 0xffff) : -1,
    };
  } else {
    const values = frameValues(frame);
    if (values !== undefined) texels = { ...base, format: 'float32', data: values };
  }
  if (texels === undefined) throw new ImageViewError(ImageViewErrorCode.INVALID_FRAME, `image view: dtype ${dtype} cannot be drawn`);
  if (texels.data.length < width * height) {
    throw new ImageViewError(ImageViewErrorCode.INVALID_FRAME, `image view: ${texels.data.length} values for a ${height} × ${width} image`);
  }
  return texels;
}

/** Value `i` of the texels, as a number (NaN codes → NaN). */
export function texelValue(texels: Texels, i: number): number {
  const raw = texels.data[i]!;
  switch (texels.format) {
    case 'float32':
      return raw;
    case 'float16':
      return float16Value(raw);
    default:
      return raw === texels.nanCode ? Number.NaN : raw * texels.scale + texels.offset;
  }
}

/** The texels as float32 values (the CPU path: for a renderer that takes only float32); float32 texels as they are. */
export function toFloat32(texels: Texels, out?: Float32Array): Texels {
  if (texels.format === 'float32') return texels;
  const count = texels.width * texels.height;
  const values = out !== undefined && out.length >= count ? out : new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = texelValue(texels, i);
  return { format: 'float32', data: values, width: texels.width, height: texels.height, scale: 1, offset: 0, nanCode: -1 };
}

/** Up to `count` evenly strided values (for automatic contrast: a 1024² frame is not read whole at 60 Hz). */
export function sampleValues(texels: Texels, count = 16_384): Float32Array {
  const total = texels.width * texels.height;
  const stride = Math.max(1, Math.floor(total / count));
  const samples = new Float32Array(Math.ceil(total / stride));
  for (let i = 0, j = 0; i < total; i += stride, j++) samples[j] = texelValue(texels, i);
  return samples;
}
