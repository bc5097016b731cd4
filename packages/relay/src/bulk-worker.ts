/**
 * `@webmon/relay/bulk-worker.js`: the script of the relay client's bulk worker (`RelayClientOptions.bulkWorker`).
 * A dedicated worker that opens a connection of its own to the same server, subscribes there to the page's
 * binary topics, and puts their chunks back together off the page's main thread. Each frame's bytes are
 * moved to the page (transferred, not copied); a frame is acknowledged on this connection once the page
 * says its handlers are done with it, so the credit window means what it means on the page's connection.
 * It is a relay client itself (the same code), so reconnects, sessions, views and chunks behave the same.
 */
import type { DecodedFrame } from '@webmon/protocol';
import { createRelayClient, type RelayClient, type TopicEvent } from './client.js';
import type { FromBulkWorker, ToBulkWorker } from './client-bulk-protocol.js';

/** Frames the page has not answered for, per topic: a page that never answers (no window) must not grow this. */
const MAX_PENDING_PER_TOPIC = 16;

interface WorkerScope {
  onmessage: ((event: MessageEvent<ToBulkWorker>) => void) | null;
  postMessage(message: FromBulkWorker, transfer?: Transferable[]): void;
  close(): void;
}
const scope = globalThis as unknown as WorkerScope;
const post = (message: FromBulkWorker, transfer: Transferable[] = []): void => scope.postMessage(message, transfer);

let client: RelayClient | undefined;
const unsubscribes = new Map<string, () => void>();
/** Per topic, the acknowledgement each frame handed to the page is waiting for, by seq (oldest first). */
const pending = new Map<string, Map<number, () => void>>();

function bytesOf(frame: DecodedFrame): ArrayBuffer | undefined {
  const { buffer } = frame.data;
  // A SharedArrayBuffer cannot be moved; it is cloned as shared memory instead.
  return buffer instanceof ArrayBuffer ? buffer : undefined;
}

function onFrame(event: TopicEvent<unknown>): void {
  if (event.kind !== 'frame') return;
  const { topic, seq } = event;
  let waiting = pending.get(topic);
  if (waiting === undefined) {
    waiting = new Map();
    pending.set(topic, waiting);
  }
  waiting.set(seq, event.defer());
  if (waiting.size > MAX_PENDING_PER_TOPIC) waiting.delete(waiting.keys().next().value as number);
  const bytes = bytesOf(event.frame);
  post({ type: 'frame', frame: event.frame, replay: event.replay }, bytes === undefined ? [] : [bytes]);
}

function subscribe(topic: string, view: Parameters<RelayClient['setView']>[1]): void {
  if (client === undefined) return;
  unsubscribes.get(topic)?.();
  pending.delete(topic);
  unsubscribes.set(topic, client.subscribe(topic, onFrame, view === undefined ? {} : { view }));
}

scope.onmessage = ({ data: message }) => {
  switch (message.type) {
    case 'start': {
      if (client !== undefined) return;
      const { type: _type, ...options } = message;
      client = createRelayClient({ ...options, payloadValidators: {} });
      client.onError((error) => post({ type: 'error', code: error.code, message: error.message, ...(error.topic === undefined ? {} : { topic: error.topic }) }));
      client.onGap((gap) => post({ type: 'gap', gap }));
      client.onStateChange((state) => post({ type: 'state', state }));
      return;
    }
    case 'subscribe':
      subscribe(message.topic, message.view);
      return;
    case 'unsubscribe':
      unsubscribes.get(message.topic)?.();
      unsubscribes.delete(message.topic);
      pending.delete(message.topic);
      return;
    case 'view': {
      const { id } = message;
      if (client === undefined) return;
      client.setView(message.topic, message.view ?? undefined).then(
        () => post({ type: 'viewed', id }),
        (error: { code?: unknown; message?: unknown }) => post({ type: 'viewed', id, error: { code: String(error.code ?? 'RELAY_CLIENT_DISCONNECTED'), message: String(error.message) } }),
      );
      return;
    }
    case 'handled': {
      const waiting = pending.get(message.topic);
      const done = waiting?.get(message.seq);
      if (waiting === undefined || done === undefined) return;
      // Acknowledgements are cumulative: this one covers the frames before it that are still waiting.
      for (const seq of [...waiting.keys()]) if (seq <= message.seq) waiting.delete(seq);
      done();
      return;
    }
    case 'give-back':
      // Nothing to do with it: dropped here, it is freed by this thread's collector, not the page's.
      return;
    case 'close':
      client?.close();
      client = undefined;
      scope.close();
      return;
  }
};
