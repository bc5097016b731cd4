/**
 * Stable codes of every error the image view throws; all listed in the README. Values carry the package
 * prefix `IMAGE_VIEW_`; keys are the short names callers compare against.
 */
export const ImageViewErrorCode = {
  /** An option passed to `createImageView` (or a setter) is out of range or of the wrong type. */
  INVALID_OPTIONS: 'IMAGE_VIEW_INVALID_OPTIONS',
  /** `show()` got something it cannot draw: not a 2-D single-channel array, too little data, or a dtype it does not read. */
  INVALID_FRAME: 'IMAGE_VIEW_INVALID_FRAME',
  /** The browser gives the canvas neither a WebGL2 nor a 2D context (or the renderer option asked for one it lacks). */
  NO_RENDERER: 'IMAGE_VIEW_NO_RENDERER',
  /** The render worker failed (could not start, or lost its context): the view stops drawing. */
  WORKER_FAILED: 'IMAGE_VIEW_WORKER_FAILED',
  /** A method was called after `dispose()`. */
  DISPOSED: 'IMAGE_VIEW_DISPOSED',
} as const;
export type ImageViewErrorCode = (typeof ImageViewErrorCode)[keyof typeof ImageViewErrorCode];

/** Every error thrown by the image view. The view's state is unchanged when one is thrown. */
export class ImageViewError extends Error {
  override readonly name = 'ImageViewError';
  readonly code: ImageViewErrorCode;

  constructor(code: ImageViewErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isImageViewError(value: unknown): value is ImageViewError {
  return value instanceof ImageViewError;
}
