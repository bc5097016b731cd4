/**
 * The render worker's entry (built into a string at build time, started from a Blob URL): the same
 * renderers as the main thread, on the `OffscreenCanvas` the view transferred to it. Texture uploads,
 * CPU read-back (canvas fallback) and draws happen here, so the page's main thread only posts messages.
 */
import { createRenderer, drawWith } from './draw-target.js';
import type { ImageRenderer } from './renderer.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';

const scope = self as unknown as { onmessage: ((event: MessageEvent<ToWorker>) => void) | null; postMessage(message: FromWorker): void; close(): void };
let renderer: ImageRenderer | undefined;
let draw: ReturnType<typeof drawWith> | undefined;

scope.onmessage = ({ data: message }) => {
  try {
    if (message.type === 'init') {
      renderer = createRenderer(message.canvas, message.options);
      draw = drawWith(renderer);
      scope.postMessage({ type: 'ready', kind: renderer.kind, texture: renderer.texture });
    } else if (message.type === 'draw') {
      if (!renderer || !draw) throw new Error('render worker: draw before init');
      draw(message.texels, message.scene);
      scope.postMessage({ type: 'drawn', id: message.id, texture: renderer.texture });
    } else {
      renderer?.dispose();
      scope.close();
    }
  } catch (error) {
    scope.postMessage({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  }
};
