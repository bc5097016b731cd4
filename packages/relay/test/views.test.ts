/**
 * Array views (protocol 1.3) through a real relay and real `ws` clients on port 0: the view a page asks
 * for (reduced, cropped, converted, its header), one computation per distinct view per published value
 * shared by every page that asks it, nothing computed for values coalesced away, view changes and their
 * acknowledgements, refusals (`BAD_VIEW`) that leave the page's other subscriptions alone, and the relay's
 * own client (`subscribe(…, { view })`, `setView`).
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PROTOCOL_VERSION, decodeFrame, frameValues, type DecodedFrame, type ErrorMessage, type ServerMessage } from '@webmon/protocol';
import { createRelayClient, type RelayClientError, type WebSocketConstructor } from '../src/client.js';
import { cleanup, connect, record, settle, sleep, startRelay, subscribe, waitFor, type Recorder } from './helpers.js';

afterEach(cleanup);

const topics = [
  { name: 'image', mode: 'latest' as const, binary: true },
  { name: 'state', mode: 'latest' as const },
  { name: 'frames', mode: 'stream' as const, binary: true },
];


/** A rows × cols float32 array whose value at (y, x) is y * 1000 + x + offset. */
function ramp(rows: number, cols: number, offset = 0): Float32Array {
  return Float32Array.from({ length: rows * cols }, (_, i) => Math.floor(i / cols) * 1000 + (i % cols) + offset);
}

const frames = (client: Recorder): DecodedFrame[] => client.binary.map((bytes) => decodeFrame(bytes));
const errors = (client: Recorder): ErrorMessage[] => client.messages.filter((message): message is ErrorMessage => message.type === 'error');

/** A relay, an image topic with one value, a page with window 1 and a 4 × 4 view of it, and a publisher. */
async function viewPage() {
  const { relay, url } = await startRelay({ topics });
  let count = 0;
  const publish = () => relay.publishFrame('image', { dtype: 'float32', shape: [32, 32] }, ramp(32, 32, count++));
  publish();
  const client = await connect(url);
  await subscribe(client, { topics: ['image'], window: 1, view: { maxShape: [4, 4] } });
  return { relay, client, publish, published: () => count };
}

describe('array views through the relay', () => {
  it('says 1.3 in hello, and sends a page the view it asked for: reduced by block means, labelled in the header', async () => {
    const { relay, url } = await startRelay({ topics });
    relay.publishFrame('image', { dtype: 'float32', shape: [6, 9], meta: { colormap: 'gray' } }, ramp(6, 9));
    const client = await connect(url);
    expect(client.messages[0]).toMatchObject({ type: 'hello', version: PROTOCOL_VERSION });
    expect(PROTOCOL_VERSION).toBe('1.6.0');
    await subscribe(client, { topics: ['image'], view: { maxShape: [3, 4] } });
    await waitFor(() => client.binary.length === 1 || undefined, 'the snapshot in the view');
    const [snapshot] = frames(client);
    // 6 × 9 into at most 3 × 4: step 3 (9 / 4 rounds up), so 2 × 3 pixels, each the mean of a 3 × 3 block.
    expect(snapshot).toMatchObject({
      topic: 'image', seq: 0, dtype: 'float32', shape: [2, 3], meta: { colormap: 'gray' },
      view: { request: { maxShape: [3, 4], dtype: 'float32' }, source: { shape: [6, 9], dtype: 'float32' }, region: { y0: 0, x0: 0, y1: 6, x1: 9 }, step: 3 },
    });
    expect([...(snapshot!.data as Float32Array)]).toEqual([1001, 1004, 1007, 4001, 4004, 4007]);

    // Live values follow in the same view; a region zooms in, and at step 1 the values are the source's.
    client.send({ type: 'view', id: 'zoom', topic: 'image', view: { maxShape: [3, 4], region: { y0: 2, x0: 5, y1: 4, x1: 8 } } });
    await client.next('ack', 0, (ack) => ack.id === 'zoom');
    await waitFor(() => client.binary.length === 2 || undefined, 'the newest value again, zoomed in');
    const zoomed = frames(client)[1]!;
    expect(zoomed).toMatchObject({ seq: 0, shape: [2, 3], view: { region: { y0: 2, x0: 5, y1: 4, x1: 8 }, step: 1 } });
    expect([...(zoomed.data as Float32Array)]).toEqual([2005, 2006, 2007, 3005, 3006, 3007]);
    relay.publishFrame('image', { dtype: 'float32', shape: [6, 9] }, ramp(6, 9, 0.5));
    await waitFor(() => client.binary.length === 3 || undefined, 'a live value in the view');
    expect([...(frames(client)[2]!.data as Float32Array)]).toEqual([2005.5, 2006.5, 2007.5, 3005.5, 3006.5, 3007.5]);
    expect(errors(client)).toEqual([]);
  });

  it('computes each distinct view once per published value and shares it between the pages that ask it', async () => {
    const { relay, url } = await startRelay({ topics });
    const small = { maxShape: [8, 8] };
    const pages = [
      ...(await Promise.all([0, 1, 2].map(() => connect(url)))).map((client) => ({ client, view: small })),
      { client: await connect(url), view: { maxShape: [8, 8], dtype: 'uint8' } },
      { client: await connect(url), view: undefined },
    ];
    for (const { client, view } of pages) await subscribe(client, { topics: ['image'], ...(view ? { view } : {}) });
    for (let index = 0; index < 5; index += 1) {
      relay.publishFrame('image', { dtype: 'float32', shape: [64, 64] }, ramp(64, 64, index));
      await waitFor(() => pages.every(({ client }) => client.binary.length === index + 1) || undefined, `value ${index} on every page`);
    }
    // Two distinct views × five values, computed once each (ahead, when published), and every page with a
    // view takes its frame from that one computation.
    expect(relay.stats().views).toMatchObject({ computed: 10, computedAhead: 10, shared: 20, whole: 0 });
    // Each value copied once into shared memory for the view thread; from the second on, into the copy of
    // the value before it (its views were done): no new SharedArrayBuffer per value.
    expect(relay.stats().views).toMatchObject({ sourceCopies: 5, sourceCopiesReused: 4 });
    const received = pages.map(({ client }) => frames(client));
    for (let index = 0; index < 5; index += 1) {
      const [a, b, c, bytes, whole] = received.map((list) => list[index]!);
      expect(a!.shape).toEqual([8, 8]);
      // Each value's own numbers (a reused copy holds the new value, not the one before it): block means.
      expect([...(a!.data as Float32Array)].slice(0, 2)).toEqual([3503.5 + index, 3511.5 + index]);
      expect(b!.data).toEqual(a!.data);
      expect(c!.data).toEqual(a!.data);
      expect(bytes).toMatchObject({ dtype: 'uint8', shape: [8, 8], view: { step: 8, request: { dtype: 'uint8' } } });
      // The uint8 view reads back to the float32 view's values within half a code.
      const values = frameValues(bytes!)!;
      const scale = bytes!.view!.scale!;
      (a!.data as Float32Array).forEach((value, i) => expect(Math.abs(values[i]! - value)).toBeLessThanOrEqual(scale / 2 + 1e-3));
      // A page that asked no view gets the published frame, as before 1.3.
      expect(whole).toMatchObject({ shape: [64, 64], dtype: 'float32' });
      expect(whole!.view).toBeUndefined();
    }
  });

  it('computes the view of a new value ahead, while the page holds the previous one: at most one ahead, ready before the ack', async () => {
    const { relay, url } = await startRelay({ topics });
    relay.publishFrame('image', { dtype: 'float32', shape: [32, 32] }, ramp(32, 32));
    const client = await connect(url);
    await subscribe(client, { topics: ['image'], window: 1, view: { maxShape: [4, 4] } });
    await waitFor(() => client.binary.length === 1 || undefined, 'the snapshot');
    expect(relay.stats().views).toMatchObject({ computed: 1, computedAhead: 0 });
    // One value while the page holds the snapshot: computed at once, not when the page acknowledges.
    relay.publishFrame('image', { dtype: 'float32', shape: [32, 32] }, ramp(32, 32, 1));
    await waitFor(() => relay.stats().views.computed === 2 || undefined, 'the next view computed ahead');
    expect(relay.stats().views.computedAhead).toBe(1);
    expect(client.binary).toHaveLength(1); // not sent: the window is full
    // Ten values in one burst: the first starts, the newest waits its turn, the eight between are replaced.
    for (let index = 2; index <= 11; index += 1) relay.publishFrame('image', { dtype: 'float32', shape: [32, 32] }, ramp(32, 32, index));
    await waitFor(() => relay.stats().views.computed === 4 || undefined, 'the first and the newest of the burst');
    await settle(client);
    await sleep(30);
    expect(relay.stats().views).toMatchObject({ computed: 4, computedAhead: 3, replacedAhead: 8 });
    expect(client.binary).toHaveLength(1);
    // The acknowledgement finds the newest value's view made: it is sent, nothing is computed for it.
    client.send({ type: 'handled', topic: 'image', seq: 0 });
    await waitFor(() => client.binary.length === 2 || undefined, 'the newest value');
    expect(frames(client)[1]).toMatchObject({ seq: 11, shape: [4, 4] });
    expect([...(frames(client)[1]!.data as Float32Array)].slice(0, 2)).toEqual([3514.5, 3522.5]);
    expect(relay.stats().views).toMatchObject({ computed: 4, computedAhead: 3 });
  });

  it('sends the value whose view is in the making sooner than a newer one queued behind it, then the newer one', async () => {
    const { relay, url } = await startRelay({ topics, viewWorkers: 1 });
    // Big enough that its view takes far longer on the thread than an acknowledgement's round trip here.
    const shape = [4096, 2048];
    const values = [0, 1, 2].map((value) => new Float32Array(4096 * 2048).fill(value));
    const view = { maxShape: [7, 7], resample: 'area' };
    relay.publishFrame('image', { dtype: 'float32', shape }, values[0]!);
    const client = await connect(url);
    await subscribe(client, { topics: ['image'], window: 1, view });
    await waitFor(() => client.binary.length === 1 || undefined, 'the snapshot');
    relay.publishFrame('image', { dtype: 'float32', shape }, values[1]!); // its view starts at once, ahead
    relay.publishFrame('image', { dtype: 'float32', shape }, values[2]!); // queued behind it: not started
    client.send({ type: 'handled', topic: 'image', seq: 0 });
    await waitFor(() => client.binary.length === 2 || undefined, 'the next value');
    // Not the newest (its view had not started), but the one whose view was being made: newer than seq 0.
    expect(frames(client)[1]).toMatchObject({ seq: 1, shape: [7, 4] });
    expect((frames(client)[1]!.data as Float32Array)[0]).toBe(1);
    expect(relay.stats().views).toMatchObject({ sentSooner: 1 });
    client.send({ type: 'handled', topic: 'image', seq: 1 });
    await waitFor(() => client.binary.length === 3 || undefined, 'the newest value');
    expect(frames(client)[2]).toMatchObject({ seq: 2 });
    expect((frames(client)[2]!.data as Float32Array)[0]).toBe(2);
    // Each value computed once: the snapshot's, and the two ahead.
    expect(relay.stats().views).toMatchObject({ computed: 3, computedAhead: 2, sentSooner: 1 });
  });

  it('paces views to a page slower than its producer: about one computation per frame it takes, each of a value newest then', async () => {
    const { relay, client, publish, published } = await viewPage();
    await waitFor(() => client.binary.length === 1 || undefined, 'the snapshot');
    let computedBefore = Number.NaN;
    // A value every 10 ms; the page takes 60 ms over each frame before it acknowledges it.
    const lags: number[] = [];
    let acked = 0;
    let arrivedAt = performance.now();
    const started = performance.now();
    while (performance.now() - started < 1500) {
      await sleep(10);
      publish();
      const received = frames(client);
      if (received.length > lags.length) {
        arrivedAt = performance.now();
        lags.push(published() - 1 - received.at(-1)!.seq); // how many values newer than it existed
        // Counted from the page's third frame on: its pace is known from its second take.
        if (lags.length === 3) computedBefore = relay.stats().views.computed;
      }
      if (received.length > acked && performance.now() - arrivedAt >= 60) {
        client.send({ type: 'handled', topic: 'image', seq: received.at(-1)!.seq });
        acked = received.length;
      }
    }
    const taken = client.binary.length - 1 - 3;
    const computed = relay.stats().views.computed - computedBefore;
    expect(published()).toBeGreaterThan(80);
    expect(taken).toBeGreaterThan(8);
    // Unpaced, every value would be computed ahead (about 7 per take here); paced, one per take.
    expect(computed).toBeLessThanOrEqual(taken + 2);
    expect(relay.stats().views.deferredAhead).toBeGreaterThan(published() / 2);
    // And what the page gets is about as new as it was when the page acknowledged (a value is 10 ms): the
    // view was started shortly before the take was due, not right after the previous one.
    expect(lags.slice(3).sort((a, b) => a - b)[Math.floor((lags.length - 3) / 2)]).toBeLessThanOrEqual(3);
  });

  it('computes nothing more ahead for a page that stopped acknowledging, once its pace is known', async () => {
    const { relay, client, publish, published } = await viewPage();
    for (let taken = 1; taken <= 4; taken += 1) {
      await waitFor(() => client.binary.length === taken || undefined, `frame ${taken}`);
      await sleep(20);
      publish();
      client.send({ type: 'handled', topic: 'image', seq: frames(client).at(-1)!.seq });
    }
    await waitFor(() => client.binary.length === 5 || undefined, 'frame 5, then the page stops');
    await sleep(50);
    const computedBefore = relay.stats().views.computed;
    for (let index = 0; index < 30; index += 1) {
      publish();
      await sleep(5);
    }
    await sleep(50);
    // At most the one view made ahead for the page's next take, whatever was published meanwhile.
    expect(relay.stats().views.computed - computedBefore).toBeLessThanOrEqual(1);
    // When the page comes back it is served at once, and the value after it is as new as can be.
    client.send({ type: 'handled', topic: 'image', seq: frames(client).at(-1)!.seq });
    await waitFor(() => client.binary.length === 6 || undefined, 'a frame after the page came back');
    client.send({ type: 'handled', topic: 'image', seq: frames(client).at(-1)!.seq });
    await waitFor(() => client.binary.length === 7 || undefined, 'the next one');
    expect(frames(client)[6]!.seq).toBe(published() - 1);
  });

  it('computes a view ahead once for every page that asks it, and one per distinct view', async () => {
    const { relay, url } = await startRelay({ topics });
    relay.publishFrame('image', { dtype: 'float32', shape: [32, 32] }, ramp(32, 32));
    const pages = await Promise.all([0, 1, 2].map(() => connect(url)));
    await subscribe(pages[0]!, { topics: ['image'], window: 1, view: { maxShape: [4, 4] } });
    await subscribe(pages[1]!, { topics: ['image'], window: 1, view: { maxShape: [4, 4] } });
    await subscribe(pages[2]!, { topics: ['image'], window: 1, view: { maxShape: [8, 8] } });
    await waitFor(() => pages.every((page) => page.binary.length === 1) || undefined, 'the snapshots');
    const before = relay.stats().views.computed; // the snapshot's: 2 distinct views
    expect(before).toBe(2);
    for (let seq = 1; seq <= 3; seq += 1) {
      relay.publishFrame('image', { dtype: 'float32', shape: [32, 32] }, ramp(32, 32, seq));
      // Ready before any page acknowledges: one computation per distinct view, none per page.
      await waitFor(() => relay.stats().views.computed === before + 2 * seq || undefined, `value ${seq} computed ahead`);
      expect(pages.map((page) => page.binary.length)).toEqual([seq, seq, seq]);
      for (const page of pages) page.send({ type: 'handled', topic: 'image', seq: seq - 1 });
      await waitFor(() => pages.every((page) => page.binary.length === seq + 1) || undefined, `value ${seq} on every page`);
    }
    expect(relay.stats().views).toMatchObject({ computed: 8, computedAhead: 6 });
    const [a, b, c] = pages.map((page) => frames(page).at(-1)!);
    expect(a).toMatchObject({ seq: 3, shape: [4, 4] });
    expect(b!.data).toEqual(a!.data);
    expect(c).toMatchObject({ seq: 3, shape: [8, 8] });
  });

  it('re-sends the newest value when the view changes, restarts the window, and goes back to whole frames on null', async () => {
    const { relay, url } = await startRelay({ topics });
    relay.publishFrame('image', { dtype: 'float32', shape: [16, 16] }, ramp(16, 16));
    const client = await connect(url);
    await subscribe(client, { topics: ['image'], window: 1, view: { maxShape: [4, 4] } });
    await waitFor(() => client.binary.length === 1 || undefined, 'the snapshot');
    // Not acknowledged: the window is full. A view change still brings the value in the new view at once…
    client.send({ type: 'view', id: 'v1', topic: 'image', view: { maxShape: [8, 8], dtype: 'float16' } });
    await waitFor(() => client.binary.length === 2 || undefined, 'the value in the new view');
    expect(frames(client)[1]).toMatchObject({ seq: 0, dtype: 'float16', shape: [8, 8], view: { step: 2 } });
    // …and the window counts only that one: an acknowledgement of the old view's frame (same seq) opens it.
    relay.publishFrame('image', { dtype: 'float32', shape: [16, 16] }, ramp(16, 16, 1));
    await settle(client);
    expect(client.binary).toHaveLength(2);
    client.send({ type: 'handled', topic: 'image', seq: 0 });
    await waitFor(() => client.binary.length === 3 || undefined, 'the next value');
    expect(frames(client)[2]).toMatchObject({ seq: 1, dtype: 'float16' });
    // Asking the view it has changes nothing and sends nothing.
    client.send({ type: 'view', id: 'same', topic: 'image', view: { dtype: 'float16', maxShape: [8, 8] } });
    await client.next('ack', 0, (ack) => ack.id === 'same');
    await settle(client);
    expect(client.binary).toHaveLength(3);
    // Whole frames again.
    client.send({ type: 'handled', topic: 'image', seq: 1 });
    client.send({ type: 'view', id: 'none', topic: 'image', view: null });
    await waitFor(() => client.binary.length === 4 || undefined, 'the whole value');
    expect(frames(client)[3]).toMatchObject({ seq: 1, dtype: 'float32', shape: [16, 16] });
    expect(frames(client)[3]!.view).toBeUndefined();
    expect(errors(client)).toEqual([]);
    expect(relay.stats().clients[0]).toMatchObject({ viewedTopics: 0, acksDistrusted: false });
  });

  it('refuses bad views with BAD_VIEW and keeps the page subscribed to everything else', async () => {
    const { relay, url } = await startRelay({ topics });
    relay.publishFrame('image', { dtype: 'float32', shape: [20, 30] }, ramp(20, 30));
    const client = await connect(url);
    await subscribe(client, { topics: ['state'] });
    const refusals: [string, Record<string, unknown>][] = [
      ['a negative edge', { type: 'subscribe', id: 'neg', topics: ['image'], view: { maxShape: [-4, 4] } }],
      ['a huge edge', { type: 'subscribe', id: 'huge', topics: ['image'], view: { maxShape: [4, 1e9] } }],
      ['an empty region', { type: 'subscribe', id: 'empty', topics: ['image'], view: { maxShape: [4, 4], region: { y0: 3, x0: 0, y1: 3, x1: 5 } } }],
      ['a region that misses the array', { type: 'subscribe', id: 'miss', topics: ['image'], view: { maxShape: [4, 4], region: { y0: 25, x0: 0, y1: 40, x1: 5 } } }],
      ['a view of a JSON topic', { type: 'subscribe', id: 'json', topics: ['state'], view: { maxShape: [4, 4] } }],
      ['a view of a stream topic', { type: 'subscribe', id: 'stream', topics: ['frames'], view: { maxShape: [4, 4] } }],
      ['a view change of a topic not subscribed', { type: 'view', id: 'unsub', topic: 'image', view: { maxShape: [4, 4] } }],
    ];
    for (const [what, message] of refusals) {
      const from = client.messages.length;
      client.send(message);
      const error = await client.next('error', from);
      expect(error, what).toMatchObject({ code: 'BAD_VIEW', topic: message['topics'] === undefined ? 'image' : (message['topics'] as string[])[0] });
    }
    expect(relay.stats().clients[0]!.subscriptions).toEqual(['state']);
    // The request's other topics are served; the connection and the old subscription work on.
    const from = client.messages.length;
    client.send({ type: 'subscribe', id: 'mixed', topics: ['image', 'state'], view: { maxShape: [4, 4] } });
    const ack = await client.next('ack', from, (message) => message.id === 'mixed');
    expect(ack.result).toMatchObject({ subscribed: ['image'], refused: ['state'] });
    relay.publish('state', { ok: true });
    await client.next('data', from, (message) => message.topic === 'state');
    await waitFor(() => client.binary.length === 1 || undefined, 'the image in its view');
    expect(frames(client)[0]!.shape).toEqual([3, 4]); // 20 × 30 at step 8
    // A view change that misses the array leaves the view as it was.
    const before = client.messages.length;
    client.send({ type: 'view', id: 'off', topic: 'image', view: { maxShape: [4, 4], region: { y0: 0, x0: 31, y1: 5, x1: 40 } } });
    expect(await client.next('error', before)).toMatchObject({ code: 'BAD_VIEW', id: 'off', topic: 'image' });
    relay.publishFrame('image', { dtype: 'float32', shape: [20, 30] }, ramp(20, 30, 1));
    await waitFor(() => client.binary.length === 2 || undefined, 'the next value in the old view');
    expect(frames(client)[1]).toMatchObject({ shape: [3, 4], view: { step: 8 } });
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('sends arrays that are not images whole, labelled by nothing, to a page that asked a view', async () => {
    const { relay, url } = await startRelay({ topics });
    const client = await connect(url);
    await subscribe(client, { topics: ['image'], view: { maxShape: [4, 4] } });
    relay.publishFrame('image', { dtype: 'float32', shape: [100] }, new Float32Array(100));
    relay.publishFrame('image', { dtype: 'complex64', shape: [8, 8] }, new Float32Array(128));
    await waitFor(() => client.binary.length === 2 || undefined, 'both values');
    expect(frames(client).map((frame) => [frame.shape, frame.view])).toEqual([[[100], undefined], [[8, 8], undefined]]);
    expect(relay.stats().views).toMatchObject({ computed: 0, whole: 2 });
  });

  it("charges a repeated snapshot the view's bytes, not the published frame's (snapshotRate)", async () => {
    const { relay, url } = await startRelay({ topics, snapshotRate: { perSecond: 1, burst: 64 * 1024 } });
    relay.publishFrame('image', { dtype: 'float32', shape: [1024, 1024] }, ramp(1024, 1024)); // 4 MiB
    const outcomes = async (view: Record<string, unknown> | undefined): Promise<string[]> => {
      const client = await connect(url);
      const results: string[] = [];
      for (let round = 0; round < 4; round += 1) {
        const id = `again${round}`;
        client.send({ type: 'subscribe', id, topics: ['image'], ...(view === undefined ? {} : { view }) });
        const ack = await client.next('ack', 0, (message) => message.id === id);
        const result = ack.result as { subscribed: string[]; limited?: string[] };
        results.push(result.limited?.includes('image') === true ? 'limited' : 'subscribed');
        client.send({ type: 'unsubscribe', topics: ['image'] });
      }
      return results;
    };
    // 16 × 16 float32 is 1 KiB: four snapshots fit in the 64 KiB bucket many times over.
    expect(await outcomes({ maxShape: [16, 16] })).toEqual(['subscribed', 'subscribed', 'subscribed', 'subscribed']);
    // Whole, the first repeat puts the bucket 4 MiB in debt: the next ones wait.
    expect(await outcomes(undefined)).toEqual(['subscribed', 'subscribed', 'limited', 'limited']);
  });

  it('limits view changes per page (viewRate)', async () => {
    const { relay, url } = await startRelay({ topics, viewRate: { perSecond: 1, burst: 3 } });
    relay.publishFrame('image', { dtype: 'float32', shape: [8, 8] }, ramp(8, 8));
    const client = await connect(url);
    await subscribe(client, { topics: ['image'] });
    for (let index = 0; index < 5; index += 1) client.send({ type: 'view', id: `z${index}`, topic: 'image', view: { maxShape: [4, 4 + index] } });
    await settle(client);
    const answers = client.messages.filter((message): message is Extract<ServerMessage, { type: 'ack' | 'error' }> => (message.type === 'ack' || message.type === 'error') && message.id?.startsWith('z') === true);
    expect(answers.map((message) => (message.type === 'ack' ? 'ack' : message.code))).toEqual(['ack', 'ack', 'ack', 'RATE_LIMITED', 'RATE_LIMITED']);
    // Each accepted change started a computation (on the pool's thread); the refused ones none.
    await waitFor(() => relay.stats().views.computed >= 3 || undefined, 'three views computed');
    await settle(client);
    expect(relay.stats().views.computed).toBe(3);
  });
});

describe('the relay client and views', () => {
  it('subscribes with a view, changes it with setView, and reports a refused view', async () => {
    const { relay, url } = await startRelay({ topics });
    relay.publishFrame('image', { dtype: 'float32', shape: [40, 40] }, ramp(40, 40));
    const client = createRelayClient({ url, WebSocket: WebSocket as unknown as WebSocketConstructor });
    const received: DecodedFrame[] = [];
    client.subscribe('image', (event) => {
      if (event.kind === 'frame') received.push(event.frame);
    }, { view: { maxShape: [10, 10], dtype: 'uint16' } });
    await waitFor(() => received.length === 1 || undefined, 'the snapshot in the view');
    expect(received[0]).toMatchObject({ dtype: 'uint16', shape: [10, 10], view: { step: 4 } });

    await client.setView('image', { maxShape: [10, 10], region: { y0: 5, x0: 5, y1: 15, x1: 15 } });
    await waitFor(() => received.length === 2 || undefined, 'the zoomed view');
    expect(received[1]).toMatchObject({ dtype: 'float32', shape: [10, 10], view: { step: 1, region: { y0: 5, x0: 5, y1: 15, x1: 15 } } });
    expect((received[1]!.data as Float32Array)[0]).toBe(5005);
    // Acknowledged in the new view's window: live values keep coming.
    relay.publishFrame('image', { dtype: 'float32', shape: [40, 40] }, ramp(40, 40, 0.25));
    await waitFor(() => received.length === 3 || undefined, 'a live value');
    expect((received[2]!.data as Float32Array)[0]).toBe(5005.25);

    const refused = await client.setView('image', { maxShape: [10, 10], region: { y0: 50, x0: 0, y1: 60, x1: 10 } }).then(() => undefined, (error: RelayClientError) => error);
    expect(refused).toMatchObject({ code: 'BAD_VIEW' });
    relay.publishFrame('image', { dtype: 'float32', shape: [40, 40] }, ramp(40, 40, 0.5));
    await waitFor(() => received.length === 4 || undefined, 'values flowing after a refusal');
    expect(relay.stats().clients[0]).toMatchObject({ acksDistrusted: false, windowedTopics: 1 });
    client.close();
  });
});
