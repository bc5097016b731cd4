/** The messages between the view (main thread) and its render worker. */
import type { DrawTargetOptions } from './draw-target.js';
import type { RendererKind, Scene } from './renderer.js';
import type { Texels } from './texels.js';

export type ToWorker =
  | { type: 'init'; canvas: OffscreenCanvas; options: DrawTargetOptions }
  /** Upload `texels` (when given: their buffer was transferred) and draw the scene; answered with `drawn`. */
  | { type: 'draw'; id: number; texels: Texels | undefined; scene: Scene }
  | { type: 'dispose' };

export type FromWorker =
  | { type: 'ready'; kind: RendererKind; texture: string }
  | { type: 'drawn'; id: number; texture: string }
  | { type: 'failed'; message: string };
