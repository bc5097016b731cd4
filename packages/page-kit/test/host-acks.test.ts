/**
 * Acknowledgements through the page host, against a real relay and the real relay client over a socket on
 * port 0: a page gets credit-based delivery without writing any of it — the value is acknowledged after
 * its handler (after the promise it returns settles, after the `done` it deferred) — so the server sends
 * the next value only then, and the newest one.
 */
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { createRelay, type Relay } from '@webmon/relay';
import { createRelayClient, type RelayClient, type WebSocketConstructor } from '@webmon/relay/client';
import { definePage, type DataInfo } from '../src/index.js';
import { createPageHost } from '../src/host/index.js';

// `ws` comes through @webmon/relay (its dependency), so page-kit needs no socket library of its own.
const WebSocket = createRequire(createRequire(import.meta.url).resolve('@webmon/relay'))('ws') as WebSocketConstructor;

const opened: { relay: Relay; client: RelayClient }[] = [];
afterEach(async () => {
  for (const { relay, client } of opened.splice(0)) {
    client.close();
    await relay.close();
  }
});

async function connect(): Promise<{ relay: Relay; client: RelayClient }> {
  const relay = createRelay({ topics: [{ name: 'state', mode: 'latest' }], heartbeatMs: 0 });
  const { url } = await relay.listen();
  const client = createRelayClient({ url, WebSocket });
  opened.push({ relay, client });
  return { relay, client };
}

const element = (): HTMLElement => ({ dataset: {}, textContent: '', title: '' }) as unknown as HTMLElement;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Mounts a page whose handler is `onData`; resolves once the relay delivers `state` with a window. */
async function mount(onData: (payload: unknown, info: DataInfo) => unknown): Promise<Relay> {
  const { relay, client } = await connect();
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
