/**
 * A thread of the view pool (`view-pool.ts`): computes array views (`view-math.ts`) off the relay's event
 * loop. It reads the source where the pool put it (a SharedArrayBuffer: no copy per view) and hands the
 * view's buffer back by transfer (no copy either). Nothing here knows about peers or topics.
 */
import { parentPort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { computeView } from './view-math.js';
import type { ViewReply, ViewRequest } from './view-pool.js';

const port = parentPort;
if (port === null) throw new Error('view-worker.js runs as a worker thread of @webmon/relay');

port.on('message', (request: ViewRequest) => {
  const started = performance.now();
  let reply: ViewReply;
  let transfer: ArrayBuffer[] = [];
  try {
    const bytes = new Uint8Array(request.source, request.byteOffset, request.byteLength);
    const values = computeView(bytes, request.dtype, request.plan, request.out);
    const data = values.data;
    // A fresh typed array owns its whole buffer: it can leave by transfer.
    transfer = [data.buffer as ArrayBuffer];
    reply = { id: request.id, ok: true, data, scale: values.scale, offset: values.offset, ms: performance.now() - started };
  } catch (error) {
    reply = { id: request.id, ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply, transfer);
});
