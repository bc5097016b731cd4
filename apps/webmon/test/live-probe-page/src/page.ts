/**
 * The page `test/live.e2e.test.ts` opens through webmon (`--page`): it subscribes to the simulator's
 * binary image topic and to `napari.frame_time`, and records what arrived, in which order and when
 * (`globalThis.liveProbe`). Image frames are acknowledged when the handler returns (page-kit's default,
 * credit window 1), and borrowed (`borrowFrames`, as webmon's own pages take them: the page keeps nothing
 * of a frame once handled). `?image=0` / `?frameTime=0` leave a topic out.
 */
import { definePage } from '@webmon/page-kit';
import type { DecodedFrame } from '@webmon/protocol';

export interface ProbeState {
  /** Every value in the order the page handled it; `at` is the page's wall clock at handler start, ms. */
  events: ProbeEvent[];
  checksum: number;
}

export type ProbeEvent =
  | { topic: 'image'; seq: number; at: number; handled: number }
  /** `relay`: the relay's publish time (server wall clock, ms), `put`: the simulator's put (`time`, ms). */
  | { topic: 'frame_time'; seq: number; at: number; relay: number; put: number };

export const page = definePage({
  id: 'live-probe',
  title: 'Live probe',
  topics: ['napari.image', 'napari.frame_time'],
  mount(element, context) {
    const state: ProbeState = { events: [], checksum: 0 };
    (globalThis as unknown as { liveProbe: ProbeState }).liveProbe = state;
    const query = new URLSearchParams(location.search);
    const now = (): number => performance.timeOrigin + performance.now();
    if (query.get('image') !== '0') {
      context.subscribe('napari.image', (payload, info) => {
        const at = now();
        const data = (payload as DecodedFrame).data;
        // Read the pixels as a renderer would (a stride of them): work the CPU throttling slows down.
        let sum = 0;
        if (data instanceof Float32Array) for (let i = 0; i < data.length; i += 16) sum += data[i]!;
        state.checksum += sum;
        if (!info.replayed) state.events.push({ topic: 'image', seq: info.seq, at, handled: now() });
      }, { borrowFrames: true });
    }
    if (query.get('frameTime') !== '0') {
      context.subscribe('napari.frame_time', (payload, info) => {
        const at = now();
        const put = (payload as { time?: unknown }).time;
        if (!info.replayed && typeof put === 'number') state.events.push({ topic: 'frame_time', seq: info.seq, at, relay: info.time, put: put * 1000 });
      });
    }
    element.textContent = 'live probe';
    return () => element.replaceChildren();
  },
});
