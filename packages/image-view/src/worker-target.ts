/**
 * Drawing in a worker: the page's canvas hands its drawing surface to a worker
 * (`transferControlToOffscreen`), and each frame's buffer is transferred to it (moved, not copied), so
 * texture uploads and draws leave the main thread. The worker's script is bundled into this package as a
 * string at build time (`__IMAGE_VIEW_WORKER__`) and started from a Blob URL: a host bundles one file and
 * serves nothing extra (a Content-Security-Policy must allow `worker-src blob:`).
 */
import type { DrawTarget, DrawTargetOptions } from './draw-target.js';
import { ImageViewError, ImageViewErrorCode } from './errors.js';
import type { RendererKind, Scene } from './renderer.js';
import type { Texels } from './texels.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';

/** Replaced by the worker's bundled source at build time (tsup `define`); undefined in an unbuilt source tree. */
declare const __IMAGE_VIEW_WORKER__: string | undefined;

let workerUrl: string | undefined;

/** Whether this browser (and build) can draw in a worker. */
export function workerSupported(): boolean {
  return (
    typeof __IMAGE_VIEW_WORKER__ === 'string' &&
    typeof Worker === 'function' &&
    typeof OffscreenCanvas === 'function' &&
    typeof HTMLCanvasElement.prototype.transferControlToOffscreen === 'function'
  );
}

export interface WorkerTargetOptions extends DrawTargetOptions {
  /** Move each frame's buffer to the worker (it is detached here afterwards); false: copy the texels. */
  transfer: boolean;
}

export function createWorkerTarget(canvas: HTMLCanvasElement, options: WorkerTargetOptions): DrawTarget {
  if (typeof __IMAGE_VIEW_WORKER__ !== 'string') throw new ImageViewError(ImageViewErrorCode.WORKER_FAILED, 'image view: this build carries no render worker');
  workerUrl ??= URL.createObjectURL(new Blob([__IMAGE_VIEW_WORKER__], { type: 'text/javascript' }));
  let worker: Worker;
  let offscreen: OffscreenCanvas;
  try {
    offscreen = canvas.transferControlToOffscreen();
    worker = new Worker(workerUrl, { name: 'webmon-image-view' });
  } catch (cause) {
    throw new ImageViewError(ImageViewErrorCode.WORKER_FAILED, 'image view: cannot start the render worker', { cause });
  }
  // Until the worker says: what the options ask for (WebGL2 unless the 2D canvas was asked).
  let kind: RendererKind = options.renderer === 'canvas2d' ? 'canvas2d' : 'webgl2';
  let texture = kind === 'webgl2' ? 'R32F' : 'RGBA8 (CPU colouring)';
  let failure: ImageViewError | undefined;
  const waiting = new Map<number, { resolve: () => void; reject: (error: unknown) => void }>();
  let nextId = 0;
  const fail = (message: string): void => {
    failure = new ImageViewError(ImageViewErrorCode.WORKER_FAILED, `image view: render worker: ${message}`);
    for (const { reject } of waiting.values()) reject(failure);
    waiting.clear();
  };
  worker.onmessage = ({ data }: MessageEvent<FromWorker>) => {
    if (data.type === 'ready') {
      kind = data.kind;
      texture = data.texture;
    } else if (data.type === 'drawn') {
      texture = data.texture;
      waiting.get(data.id)?.resolve();
      waiting.delete(data.id);
    } else fail(data.message);
  };
  worker.onerror = (event) => {
    event.preventDefault();
    fail(event.message || 'error');
  };
  const { transfer, ...drawOptions } = options;
  const post = (message: ToWorker, transferables: Transferable[] = []): void => worker.postMessage(message, transferables);
  post({ type: 'init', canvas: offscreen, options: drawOptions }, [offscreen]);

  return {
    get kind() {
      return kind;
    },
    get texture() {
      return texture;
    },
    worker: true,
    draw(texels: Texels | undefined, scene: Scene): Promise<void> {
      if (failure) return Promise.reject(failure);
      const id = nextId++;
      let sent = texels;
      const transferables: Transferable[] = [];
      if (texels) {
        if (transfer && texels.data.buffer instanceof ArrayBuffer) transferables.push(texels.data.buffer);
        // A copy holds only the frame's own elements, not the whole message buffer it may be a view into.
        else sent = { ...texels, data: texels.data.slice(0, texels.width * texels.height) };
      }
      return new Promise<void>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        post({ type: 'draw', id, texels: sent, scene }, transferables);
      });
    },
    dispose() {
      post({ type: 'dispose' });
      // The worker disposes its renderer (forcing the context's loss) and closes itself; stop it anyway soon after.
      setTimeout(() => worker.terminate(), 1_000);
      fail('disposed');
    },
  };
}
