// examples/frames-page.js
import { definePage } from '@webmon/page-kit';

// A page shows what a source publishes. It never opens a socket: a host (webmon, or your own with
// @webmon/page-kit/host) mounts it and hands it a context scoped to the topics it declares.
export const page = definePage({
  id: 'frames',
  title: 'Frames',
  topics: ['napari.frame_time'],
  mount(element, context) {
    const text = element.appendChild(document.createElement('p'));
    text.textContent = 'waiting for a frame';
    context.subscribe('napari.frame_time', (frame, info) => {
      // definePage gives payloads as unknown: check what you use (definePageFor types them).
      if (typeof frame?.delta_ms !== 'number') return;
      text.textContent = `${frame.delta_ms.toFixed(1)} ms per frame${info.replayed ? ' (from before this page opened)' : ''}`;
    });
    context.onConnection(({ source }) => (text.dataset.source = source)); // waiting, connected, disconnected
    return () => text.remove(); // subscriptions and listeners are released by the host
  },
});
