/**
 * Array views off the relay's event loop (`view-pool.ts`): the pool's threads compute what the inline
 * code computes; a thread that cannot start leaves views inline and says so; while a big view is being
 * computed, another page's small topic keeps flowing (and, computed inline, it does not — the same test
 * with `viewWorkers: 0`, so it can fail); a page never gets an older value after a newer one; and
 * `relay.close()` leaves no thread behind. Real threads, real sockets on port 0.
 */
import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { canonicalView, decodeFrame, type DataMessage } from '@webmon/protocol';
import { computeView, planView } from '../src/view-math.js';
import { ViewPool } from '../src/view-pool.js';
import { cleanup, connect, random, relays, settle, sleep, startRelay, subscribe, waitFor } from './helpers.js';

afterEach(cleanup);

const topics = [
  { name: 'image', mode: 'latest' as const, binary: true },
  { name: 'frame_time', mode: 'latest' as const },
];

/** Threads of this process now (Linux): a thread that has exited is gone from the list. */
const threadCount = (): number => readdirSync('/proc/self/task').length;

function noisy(rows: number, cols: number, seed: number): Float32Array {
  const next = random(seed);
  return Float32Array.from({ length: rows * cols }, () => (next() < 0.01 ? NaN : next() * 100));
}

describe('the view pool', () => {
  it('computes on a thread exactly what the inline code computes, and hands the buffer back', async () => {
    const pool = new ViewPool(1);
    try {
      const source = noisy(300, 200, 1);
      const shared = new Uint8Array(new SharedArrayBuffer(source.byteLength));
      shared.set(new Uint8Array(source.buffer));
      for (const view of [{ maxShape: [64, 64] as [number, number] }, { maxShape: [70, 50] as [number, number], resample: 'area' as const, dtype: 'uint16' as const }]) {
        const plan = planView([300, 200], 'float32', 'C', canonicalView(view))!;
        const dtype = view.dtype ?? 'float32';
        const threaded = await pool.compute(shared, 'float32', plan, dtype);
        const inline = computeView(new Uint8Array(source.buffer), 'float32', plan, dtype);
        expect(threaded.inline).toBe(false);
        expect(threaded.data.constructor).toBe(inline.data.constructor);
        expect(Array.from(threaded.data)).toEqual(Array.from(inline.data));
        expect([threaded.scale, threaded.offset]).toEqual([inline.scale, inline.offset]);
      }
      expect(pool.stats()).toEqual({ size: 1, running: 1, mode: 'workers' });
    } finally {
      await pool.close();
    }
    expect(pool.stats()).toMatchObject({ running: 0, mode: 'inline' });
  });

  it('computes inline, and says why, when its thread cannot start', async () => {
    const pool = new ViewPool(1, () => ({ url: new URL('./no-such-view-worker.js', import.meta.url) }));
    try {
      const source = noisy(40, 40, 2);
      const plan = planView([40, 40], 'float32', 'C', canonicalView({ maxShape: [10, 10] }))!;
      const view = await pool.compute(new Uint8Array(source.buffer), 'float32', plan, 'float32');
      expect(view.inline).toBe(true);
      expect(Array.from(view.data)).toEqual(Array.from(computeView(new Uint8Array(source.buffer), 'float32', plan, 'float32').data));
      await waitFor(() => pool.stats().mode === 'inline' || undefined, 'the pool to give up its thread');
      expect(pool.stats().failure).toMatch(/view thread/);
      // From now on inline, at once (no promise).
      expect(pool.compute(new Uint8Array(source.buffer), 'float32', plan, 'float32')).not.toBeInstanceOf(Promise);
    } finally {
      await pool.close();
    }
  });
});

describe('views off the event loop', () => {
  /**
   * Page A asks a view of a 4096² frame; page B plays ping-pong with `frame_time` (each value published
   * when B has the previous one). Counted: B's values delivered before the view was done (`views.computed`
   * turns 1) — no clock involved.
   */
  async function roundTripsDuringView(viewWorkers: number): Promise<{ during: number; view: ReturnType<typeof decodeFrame> }> {
    const { relay, url } = await startRelay({ topics, viewWorkers, maxBufferedBytes: 256 * 2 ** 20, maxTotalBufferedBytes: 1024 * 2 ** 20 });
    const pageA = await connect(url);
    await subscribe(pageA, { topics: ['image'], view: { maxShape: [1000, 1000], resample: 'area' } });
    const pageB = await connect(url);
    await subscribe(pageB, { topics: ['frame_time'] });
    if (viewWorkers > 0) {
      // Warm the thread up (it starts at the first view), so the count below is about computing, not starting.
      relay.publishFrame('image', { dtype: 'float32', shape: [64, 64] }, noisy(64, 64, 3));
      await waitFor(() => pageA.binary.length === 1 || undefined, 'the warm-up view');
    }
    const before = relay.stats().views.computed;
    let during = 0;
    let done = false;
    let published = 0;
    const finished = new Promise<void>((resolve) => {
      pageB.socket.on('message', (data, isBinary) => {
        if (isBinary || done) return;
        const message = JSON.parse(String(data)) as DataMessage;
        if (message.type !== 'data' || message.topic !== 'frame_time') return;
        if (relay.stats().views.computed > before) {
          done = true;
          resolve();
          return;
        }
        during += 1;
        relay.publish('frame_time', { n: ++published });
      });
    });
    const big = noisy(4096, 4096, 4);
    relay.publishFrame('image', { dtype: 'float32', shape: [4096, 4096] }, big);
    relay.publish('frame_time', { n: ++published });
    await finished;
    const view = await waitFor(() => pageA.binary.map((bytes) => decodeFrame(bytes)).find((frame) => frame.view?.source.shape[0] === 4096), 'the 4096² view');
    await settle(pageB);
    return { during, view };
  }

  it("keeps delivering another page's small topic while a 4096² view is computed on a thread (and not when inline)", async () => {
    const threaded = await roundTripsDuringView(1);
    await cleanup();
    const inline = await roundTripsDuringView(0);
    console.info(`frame_time round trips while the 4096² view was computed: thread ${threaded.during}, inline ${inline.during}`);
    // Inline, the view is computed inside publishFrame: nothing else happens meanwhile.
    expect(inline.during).toBe(0);
    expect(threaded.during).toBeGreaterThanOrEqual(3);
    for (const { view } of [threaded, inline]) {
      expect(view).toMatchObject({ shape: [1000, 1000], dtype: 'float32', view: { resample: 'area', region: { y0: 0, x0: 0, y1: 4096, x1: 4096 } } });
    }
  });

  it('never sends a page an older value after a newer one, across view changes, with and without a window', async () => {
    // Three threads: views of successive values may finish out of order; the page must not see that.
    const { relay, url } = await startRelay({ topics, viewWorkers: 3, viewRate: { perSecond: 1000, burst: 1000 } });
    const paced = await connect(url);
    await subscribe(paced, { topics: ['image'], view: { maxShape: [50, 50] }, window: 1 });
    const open = await connect(url);
    await subscribe(open, { topics: ['image'], view: { maxShape: [30, 40], resample: 'area' } });
    const source = noisy(200, 200, 5);
    // The thread starts with the first view: once both pages have that one, the values below race views being computed.
    relay.publishFrame('image', { dtype: 'float32', shape: [200, 200] }, source);
    await waitFor(() => (paced.binary.length === 1 && open.binary.length === 1) || undefined, 'the first views');
    for (let index = 0; index < 60; index += 1) {
      relay.publishFrame('image', { dtype: 'float32', shape: [200, 200] }, source);
      if (index % 7 === 3) open.send({ type: 'view', topic: 'image', view: { maxShape: [20 + index, 40], resample: 'area' } });
      // The paced page acknowledges what it has, now and then.
      const last = paced.binary.at(-1);
      if (last !== undefined) paced.send({ type: 'handled', topic: 'image', seq: decodeFrame(last).seq });
      await sleep(index % 2);
    }
    // Views are computed on a thread: wait for the last value in each page (the paced one acknowledging).
    const lastSeq = (page: typeof open): number => {
      const last = page.binary.at(-1);
      return last === undefined ? -1 : decodeFrame(last).seq;
    };
    await waitFor(() => lastSeq(open) === 60 || undefined, 'the last value in the open page');
    await waitFor(() => {
      if (lastSeq(paced) === 60) return true;
      paced.send({ type: 'handled', topic: 'image', seq: lastSeq(paced) });
      return undefined;
    }, 'the last value in the paced page');
    await settle(open);
    for (const page of [paced, open]) {
      const seqs = page.binary.map((bytes) => decodeFrame(bytes).seq);
      expect(seqs.length).toBeGreaterThan(1);
      // A value sent again in a new view repeats its seq; none goes back.
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]!, `seqs ${seqs.join(',')}`).toBeGreaterThanOrEqual(seqs[i - 1]!);
    }
  });

  it('starts its threads at the first view only, and leaves none behind when the relay closes', async () => {
    const { relay, url } = await startRelay({ topics, viewWorkers: 2 });
    const page = await connect(url);
    await subscribe(page, { topics: ['image'] });
    relay.publishFrame('image', { dtype: 'float32', shape: [64, 64] }, noisy(64, 64, 6));
    await waitFor(() => page.binary.length === 1 || undefined, 'a whole frame');
    expect(relay.stats().views.pool).toEqual({ size: 2, running: 0, mode: 'workers' });
    const without = threadCount();
    page.send({ type: 'view', id: 'v', topic: 'image', view: { maxShape: [16, 16] } });
    await waitFor(() => page.binary.length === 2 || undefined, 'the frame in the view');
    expect(relay.stats().views).toMatchObject({ computed: 1, computedInline: 0, pool: { size: 2, running: 2, mode: 'workers' } });
    const withThreads = threadCount();
    expect(withThreads).toBeGreaterThanOrEqual(without + 2);
    relays.splice(relays.indexOf(relay), 1);
    await relay.close();
    expect(relay.stats().views.pool.running).toBe(0);
    // The threads have exited: the process has (at least) two threads fewer than with them.
    expect(threadCount()).toBeLessThanOrEqual(withThreads - 2);
  });
});
