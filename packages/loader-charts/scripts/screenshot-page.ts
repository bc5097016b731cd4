/** Page for scripts/screenshot.ts: the loader charts over 12 s of a plausible napari session. */
import { createLoaderCharts } from '../src/index.js';
import type { LoaderMessage } from '../src/index.js';

const EPOCH_S = 1_763_971_200; // a fixed date, so the axis labels do not change between runs
let seed = 7;
const random = (): number => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};

const messages: LoaderMessage[] = [];
// Two pans through an octree image: chunk loads come in bursts and frames slow down while they land.
const burst = (t: number): number => (t > 2 && t < 4.2 ? 1 : t > 7 && t < 8.5 ? 0.7 : 0.05);
for (let frame = 0; frame < 12 * 60; frame += 1) {
  const t = frame / 60;
  const load = burst(t);
  messages.push({ kind: 'frame_time', data: { time: EPOCH_S + t, delta_ms: 16.7 + random() * 2 + load * (8 + random() * 25) } });
  if (random() < load * 0.9) {
    const tileBytes = [65_536, 262_144, 1_048_576][Math.floor(random() * 3)] as number;
    messages.push({
      kind: 'load_chunk',
      data: { time: EPOCH_S + t + random() / 60, num_bytes: tileBytes, load_ms: 3 + (tileBytes / 1_048_576) * 25 * (0.5 + random()) },
    });
  }
}

const charts = createLoaderCharts(document.getElementById('app') as HTMLElement, { summaryIntervalMs: 1, worker: false }); // the test page serves no worker file
await charts.ready;
charts.push(messages);
await charts.flush();
(window as unknown as { shotReady: boolean }).shotReady = true;
