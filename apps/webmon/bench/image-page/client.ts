/**
 * The benchmark's browser side: subscribes to one topic and records, per frame, when it arrived and
 * how old it was (page wall clock − writer wall clock), after turning it into a Float32Array — zero-copy
 * for a binary frame, base64-decoded for the JSON baseline. Results live in `globalThis.imageBench`.
 * `?window=0` makes it a page that never acknowledges (a protocol 1.1 client); by default it acknowledges
 * each frame when its handler returns, as a webmon page does. `?view=800` asks for an array view of at
 * most 800 × 800 resampled by area (protocol 1.4: what the image page does for an 800 × 800 canvas), in `?dtype=` (float32 by default).
 * `?small=<topic>` also subscribes to a small JSON stream topic whose payload carries its publish wall time
 * (`{time}`, ms, the same machine clock) and records put → page for each message (`smallLatencies`);
 * `?topic=` (empty) subscribes to that small topic alone. `?bulk=worker` creates the client with `bulkWorker`
 * (`@webmon/relay`): the image topic on a connection of its own in a dedicated worker, which moves each
 * frame's bytes to the page and acknowledges it when the page has handled it. `?borrow=1` subscribes to the
 * image topic with `borrowFrames` (as webmon's topics and explorer pages do): the page keeps nothing of a
 * frame once its handler returned, so through the bulk worker each buffer goes back to the worker then.
 */
import { createRelayClient } from '@webmon/relay/client';

interface BenchState {
  frames: number;
  bytes: number;
  arrivals: number[];
  latencies: number[];
  checksum: number;
  errors: string[];
  /** put → page of each message of the `?small=` topic, ms */
  smallLatencies: number[];
  /** The publisher's count `n` of each message of the `?small=` topic received (a gap in them is a loss). */
  smallNumbers: number[];
  /**
   * How late a 10 ms timer fired, ms, each time: the page's main thread busy (message handling, garbage
   * collection) — what a small message arriving meanwhile waits for before its handler runs.
   */
  loopLags: number[];
}

const state: BenchState = { frames: 0, bytes: 0, arrivals: [], latencies: [], checksum: 0, errors: [], smallLatencies: [], smallNumbers: [], loopLags: [] };
(globalThis as unknown as { imageBench: BenchState }).imageBench = state;

const LAG_PROBE_MS = 10;
let lagProbeDue = performance.now() + LAG_PROBE_MS;
const probeLag = (): void => {
  const now = performance.now();
  state.loopLags.push(Math.max(0, now - lagProbeDue));
  lagProbeDue = now + LAG_PROBE_MS;
  setTimeout(probeLag, LAG_PROBE_MS);
};
setTimeout(probeLag, LAG_PROBE_MS);

const query = new URLSearchParams(location.search);
const topic = query.get('topic') ?? 'bench.image';
const ackWindow = Number(query.get('window') ?? 1);
const viewEdge = query.get('view');
const wallClock = (): number => performance.timeOrigin + performance.now();
const fromBase64 = (Uint8Array as unknown as { fromBase64?: (text: string) => Uint8Array }).fromBase64;

function decodeBase64(text: string): Uint8Array {
  if (fromBase64) return fromBase64(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function record(time: number, pixels: Float32Array | Uint16Array | Uint8Array, replay: boolean): void {
  // Touch the data (as a renderer would) so nothing is left lazy.
  state.checksum += pixels[pixels.length >> 1] ?? 0;
  if (replay) return;
  const now = wallClock();
  state.frames++;
  state.bytes += pixels.byteLength;
  state.arrivals.push(now);
  state.latencies.push(now - time);
}

// `?bulk=worker`: binary topics on the client's bulk worker (a second connection in a dedicated worker).
const bulkWorker = query.get('bulk') === 'worker' ? '/bulk-worker.js' : undefined;
const client = createRelayClient({ url: `ws://${location.host}/ws`, payloadValidators: {}, window: ackWindow, ...(bulkWorker === undefined ? {} : { bulkWorker }) });
client.onError((error) => state.errors.push(error.message));
// Resampled by area (protocol 1.4), as the image page asks: the view fills the canvas (800², not 512²).
const viewDtype = (query.get('dtype') ?? 'float32') as 'float32' | 'float16' | 'uint16' | 'uint8';
const options = viewEdge === null ? {} : { view: { maxShape: [Number(viewEdge), Number(viewEdge)] as [number, number], dtype: viewDtype, resample: 'area' as const } };
const small = query.get('small');
if (small) {
  client.subscribe(small, (event) => {
    if (event.kind !== 'data' || event.replay) return;
    const { time, n } = (event.payload as { time?: unknown; n?: unknown } | null) ?? {};
    if (typeof time === 'number') state.smallLatencies.push(wallClock() - time);
    if (typeof n === 'number') state.smallNumbers.push(n);
  });
}
if (topic) client.subscribe(topic, (event) => {
  if (event.kind === 'frame') {
    const { data } = event.frame;
    if (data instanceof Float32Array || data instanceof Uint16Array || data instanceof Uint8Array) record(event.frame.time, data, event.replay);
    return;
  }
  const payload = event.payload as { time: number; data: string };
  const bytes = decodeBase64(payload.data);
  record(payload.time, new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4), event.replay);
}, { ...options, borrowFrames: query.get('borrow') === '1' });
