/**
 * Test page for the relay client's bulk worker: a client with `bulkWorker` (`#worker=` picks the script's
 * URL) subscribed to the binary topic `image` and the JSON stream `small` (`#small=later`: `image` alone until
 * the test calls `bulkPage.subscribeSmall()`). `#hold=1` holds each frame's
 * acknowledgement (`defer`) until the test calls `bulkPage.release()`. `#borrow=1` subscribes to `image` with
 * `borrowFrames` (`#borrow=mixed`: and a second handler without it); either way the page keeps each frame's `data`, and `bulkPage.detached()` says which are
 * detached now (their buffer given back to the worker). `#idle=` sets `bulkIdleMs`.
 */
import { createRelayClient } from '../../src/client.js';

export interface BulkPageState {
  frames: { seq: number; first: number; length: number; shape: number[]; view: unknown; replay: boolean }[];
  small: unknown[];
  errors: string[];
  /** The reported errors' messages, in the same order as `errors`. */
  errorMessages: string[];
  release(): boolean;
  setView(view: unknown): Promise<string>;
  /** Subscribes to `small` (with `#small=later` the page starts with `image` alone). */
  subscribeSmall(): void;
  /** Drops the page's subscription to `small`. */
  unsubscribeSmall(): void;
  /** Per frame received, whether its `data` is detached now. */
  detached(): boolean[];
}

// Options in the fragment: the test server serves `/` only, without a query.
const query = new URLSearchParams(location.hash.slice(1));
const held: (() => void)[] = [];
const kept: ArrayBufferView[] = [];
let dropSmall: (() => void) | undefined;
const idle = query.get('idle');
const client = createRelayClient({ url: `ws://${location.host}/ws`, bulkWorker: query.get('worker') ?? '/bulk-worker.js', payloadValidators: {}, ...(idle === null ? {} : { bulkIdleMs: Number(idle) }) });
const state: BulkPageState = {
  frames: [],
  small: [],
  errors: [],
  errorMessages: [],
  release: () => {
    const done = held.shift();
    done?.();
    return done !== undefined;
  },
  setView: (view) => client.setView('image', view as never).then(() => 'ok', (error: { code?: string }) => String(error.code)),
  subscribeSmall: () => {
    dropSmall = client.subscribe('small', (event) => {
      if (event.kind === 'data') state.small.push(event.payload);
    });
  },
  unsubscribeSmall: () => dropSmall?.(),
  detached: () => kept.map((data) => data.byteLength === 0),
};
client.onError((error) => {
  state.errors.push(error.code);
  state.errorMessages.push(error.message);
});
if (query.get('small') !== 'later') state.subscribeSmall();
client.subscribe('image', (event) => {
  if (event.kind !== 'frame') return;
  const { data, shape, view } = event.frame;
  state.frames.push({ seq: event.seq, first: Number((data as Float32Array)[0]), length: (data as Float32Array).length, shape: [...shape], view: view ?? null, replay: event.replay });
  kept.push(data);
  if (query.get('hold') === '1') held.push(event.defer());
}, { borrowFrames: query.get('borrow') === '1' || query.get('borrow') === 'mixed' });
// `#borrow=mixed`: a second handler that does not say it borrows (it could keep the frame).
if (query.get('borrow') === 'mixed') client.subscribe('image', () => undefined);
(globalThis as unknown as { bulkPage: BulkPageState }).bulkPage = state;
