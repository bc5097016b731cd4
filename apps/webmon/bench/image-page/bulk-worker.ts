/**
 * `?bulk=worker`: the image topic on a connection of its own in a dedicated worker. Each frame's bytes move
 * to the page (transferred, not copied); the worker acknowledges a frame once the page says it handled it.
 */
import { createRelayClient } from '@webmon/relay/client';

const scope = globalThis as unknown as { onmessage: ((event: MessageEvent) => void) | null; postMessage(message: unknown, transfer: Transferable[]): void };
const pending = new Map<number, () => void>();
scope.onmessage = ({ data }: MessageEvent) => {
  if (data.type === 'start') {
    const client = createRelayClient({ url: data.url, payloadValidators: {}, window: 1 });
    client.onError((error) => scope.postMessage({ type: 'error', message: error.message }, []));
    client.subscribe(data.topic, (event) => {
      if (event.kind !== 'frame') return;
      const { data: pixels } = event.frame;
      if (!(pixels instanceof Float32Array || pixels instanceof Uint16Array || pixels instanceof Uint8Array)) return;
      pending.set(event.seq, event.defer());
      scope.postMessage({ type: 'frame', seq: event.seq, time: event.frame.time, replay: event.replay, pixels }, [pixels.buffer]);
    }, data.options);
  } else if (data.type === 'handled') {
    pending.get(data.seq)?.();
    pending.delete(data.seq);
  }
};
