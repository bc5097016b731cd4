/**
 * Acknowledgements through the page host, against a real relay and the real relay client over a socket on
 * port 0: a page gets credit-based delivery without writing any of it — the value is acknowledged after
 * its handler (after the promise it returns settles, after the `done` it deferred) — so the server sends
 * the next value only then, and the newest one.
 */
import { describe, expect, it } from 'vitest';
import type { Relay } from '@webmon/relay';
import { definePage, type DataInfo } from '../src/index.js';
import { createPageHost } from '../src/host/index.js';
import { connect, element, sleep, waitFor } from './relay-helpers.js';

/** Mounts a page whose handler is `onData`; resolves once the relay delivers `state` with a window. */
async function mount(onData: (payload: unknown, info: DataInfo) => unknown): Promise<Relay> {
  const { relay, client } = await connect([{ name: 'state', mode: 'latest' }]);
  const host = createPageHost({ client });
  host.mountPage(definePage({ id: 'acks', title: 'Acks', topics: ['state'], mount: (_element, context) => void context.subscribe('state', onData) }), element());
  await waitFor(() => relay.stats().clients[0]?.windowedTopics === 1, 'the windowed subscription');
  return relay;
}

describe('acknowledgements through the page host', () => {
  it('acknowledges after a plain handler returns: the page keeps receiving, ending with the newest value', async () => {
    const seen: number[] = [];
    const relay = await mount((_payload, info) => void seen.push(info.seq));
    for (let index = 0; index < 30; index += 1) relay.publish('state', { index });
    await waitFor(() => seen.at(-1) === 29, 'the newest value');
    await waitFor(() => relay.stats().clients[0]?.unackedMessages === 0, 'the last acknowledgement');
  });

  it('acknowledges only after the promise a page handler returns settles', async () => {
    const seen: number[] = [];
    let finish: (() => void) | undefined;
    const relay = await mount(async (_payload, info) => {
      seen.push(info.seq);
      await new Promise<void>((resolve) => (finish = resolve));
    });
    for (let index = 0; index < 5; index += 1) relay.publish('state', { index });
    await waitFor(() => seen.length === 1, 'the first value');
    await sleep(150);
    expect(seen).toEqual([0]); // handler still busy: nothing else was sent
    expect(relay.stats().clients[0]).toMatchObject({ unackedMessages: 1, queuedMessages: 1 });
    finish?.();
    await waitFor(() => seen.length === 2, 'the next value');
    expect(seen).toEqual([0, 4]);
  });

  it('acknowledges only when the page calls the done it deferred (drawn later)', async () => {
    const seen: number[] = [];
    const held: (() => void)[] = [];
    const relay = await mount((_payload, info) => {
      seen.push(info.seq);
      held.push(info.defer());
    });
    for (let index = 0; index < 5; index += 1) relay.publish('state', { index });
    await waitFor(() => seen.length === 1, 'the first value');
    await sleep(150);
    expect(seen).toEqual([0]);
    held[0]!();
    await waitFor(() => seen.length === 2, 'the next value');
    expect(seen).toEqual([0, 4]);
  });
});
