/**
 * Benchmark page: draws each poll with the real tile viewer and records, per drawn poll, the time from
 * the simulator's put (`sim_time`, its time.time() just before `napari_data.update`) to the end of the
 * synchronous render. Polls are coalesced: a page that falls behind draws the newest one. `?mode=poll`
 * instead draws on a 16.7 ms timer, like the original's page hop.
 */
import type { NapariTopicPayloads } from '@webmon/napari';
import { definePageFor } from '@webmon/page-kit';
import { createTileViewer } from '@webmon/tile-viewer';

interface BenchState {
  /** put → drawn, ms */
  samples: number[];
  /** put → handler start, ms */
  arrivals: number[];
  /** render() duration, ms */
  renders: number[];
  /** put → published by webmon's relay (hop 1: Python → Node), ms */
  hop1: number[];
  /**
   * Per drawn poll, where its time went (ms): [put → relay publish, relay publish → page handler (socket,
   * browser event loop, JSON parse and payload check), handler → draw start (the wait for the scheduled
   * draw), draw (update + synchronous render), draw end → start of the next animation frame (the frame
   * that carries it to the screen), put → that next frame].
   */
  stages: number[][];
  /** napari `frame_time` messages: simulator put (`time`) → page handler, ms. */
  frameTimes: number[];
  /** The same messages: simulator put → relay publish, ms. */
  frameTimeHop1: number[];
  polls: number;
}

export const page = definePageFor<NapariTopicPayloads>()({
  id: 'bench-latency',
  title: 'Latency bench',
  topics: ['napari.layers', 'napari.frame_time'],
  mount(element, context) {
    const host = document.createElement('div');
    host.style.cssText = 'flex:1;min-height:0;position:relative;';
    element.replaceChildren(host);
    const viewer = createTileViewer(host, { renderMode: 'manual', controls: false, interactive: false });
    const state: BenchState = { samples: [], arrivals: [], renders: [], hop1: [], stages: [], frameTimes: [], frameTimeHop1: [], polls: 0 };
    (globalThis as unknown as { webmonBench: BenchState }).webmonBench = state;
    const query = new URLSearchParams(location.search);
    const timed = query.get('mode') === 'poll';
    // `?draw=0`: record arrival only, to tell the transport's share from the drawing's.
    const drawing = query.get('draw') !== '0';
    interface Pending {
      poll: Parameters<typeof viewer.update>[0];
      put: number;
      relay: number;
      arrival: number;
    }
    let pending: Pending | undefined;

    const now = (): number => performance.timeOrigin + performance.now();
    const draw = ({ poll, put, relay, arrival }: Pending): void => {
      const start = now();
      viewer.update(poll);
      viewer.render();
      const end = now();
      state.renders.push(end - start);
      state.samples.push(end - put);
      requestAnimationFrame(() => {
        const frame = now();
        state.stages.push([relay - put, arrival - relay, start - arrival, end - start, frame - end, frame - put]);
      });
    };
    context.subscribe('napari.frame_time', (message, info) => {
      if (info.replayed) return;
      state.frameTimes.push(now() - message.time * 1000);
      state.frameTimeHop1.push(info.time - message.time * 1000);
    });
    context.subscribe('napari.layers', (poll, info) => {
      const simTime = (poll as { sim_time?: unknown }).sim_time;
      if (info.replayed || typeof simTime !== 'number') return;
      state.polls++;
      const arrival = now();
      state.arrivals.push(arrival - simTime * 1000);
      state.hop1.push(info.time - simTime * 1000);
      pending = { poll, put: simTime * 1000, relay: info.time, arrival };
      if (!drawing) return;
      if (query.get('mode') === 'raf') {
        if (!scheduled) {
          scheduled = true;
          requestAnimationFrame(() => {
            scheduled = false;
            if (pending) draw(pending);
            pending = undefined;
          });
        }
        return;
      }
      if (!timed && !scheduled) {
        // Draw right after the messages already queued: a page that fell behind draws only the newest
        // poll instead of working through a backlog (the same coalescing a rAF gives, without its wait).
        scheduled = true;
        channel.port2.postMessage(null);
      }
    });
    const channel = new MessageChannel();
    let scheduled = false;
    channel.port1.onmessage = () => {
      scheduled = false;
      if (pending) draw(pending);
      pending = undefined;
    };
    const timer = timed
      ? setInterval(() => {
          if (pending) draw(pending);
          pending = undefined;
        }, 1000 / 60)
      : undefined;
    return () => {
      if (timer) clearInterval(timer);
      channel.port1.close();
      viewer.dispose();
    };
  },
});
