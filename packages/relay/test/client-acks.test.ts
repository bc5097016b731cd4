/**
 * The browser client's acknowledgements (credit-based delivery, protocol 1.2), run on `ws` in Node against
 * the real relay: when a value is acknowledged (handler returned, promise settled, `defer()` done), which
 * values are not (stream topics, `window: 0`, servers before 1.2), and that acknowledgements never leak
 * into another subscription.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import type { ClientMessage } from '@webmon/protocol';
import { createRelayClient, type RelayClient, type RelayClientOptions, type TopicEvent, type WebSocketConstructor } from '../src/client.js';
import { Acknowledger } from '../src/client-acks.js';
import type { Relay } from '../src/index.js';
import { cleanup, startRelay, waitFor } from './helpers.js';

const clients: RelayClient<unknown>[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const done of cleanups.splice(0)) await done();
  await cleanup();
});

const topics = [
  { name: 'state', mode: 'latest' as const },
  { name: 'image', mode: 'latest' as const, binary: true },
  { name: 'events', mode: 'stream' as const },
];

function connect(options: Omit<RelayClientOptions, 'WebSocket'>): RelayClient {
  const client = createRelayClient({ WebSocket: WebSocket as unknown as WebSocketConstructor, backoff: { initialMs: 50, maxMs: 500 }, ...options });
  clients.push(client as RelayClient<unknown>);
  return client;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const peer = (relay: Relay) => relay.stats().clients[0]!;
/** Publishes `count` values and waits until the relay has handed out or parked all of them. */
async function publishMany(relay: Relay, count: number, from = 0): Promise<void> {
  for (let index = from; index < from + count; index += 1) relay.publish('state', { index });
  await sleep(100);
}

describe('relay client acknowledgements', () => {
  it('acknowledges a value when its handler returns, so a page that keeps up gets the newest value', async () => {
    const { relay, url } = await startRelay({ topics });
    const client = connect({ url });
    const seen: number[] = [];
    client.subscribe('state', (event) => void seen.push(event.seq));
    await waitFor(() => peer(relay)?.windowedTopics === 1 || undefined, 'the windowed subscription');
    await publishMany(relay, 20);
    await waitFor(() => seen.at(-1) === 19 || undefined, 'the newest value');
    await waitFor(() => peer(relay).unackedMessages === 0 || undefined, 'every acknowledgement');
    expect(peer(relay)).toMatchObject({ acksDistrusted: false, queuedMessages: 0 });
  });

  it('waits for the promise a handler returns', async () => {
    const { relay, url } = await startRelay({ topics });
    const client = connect({ url });
    const seen: number[] = [];
    let finish: (() => void) | undefined;
    client.subscribe('state', (event) => {
      seen.push(event.seq);
      return new Promise<void>((resolve) => (finish = resolve));
    });
    await waitFor(() => peer(relay)?.windowedTopics === 1 || undefined, 'the windowed subscription');
    await publishMany(relay, 5);
    expect(seen).toEqual([0]);
    expect(peer(relay)).toMatchObject({ unackedMessages: 1, queuedMessages: 1 });
    finish?.();
    await waitFor(() => seen.length === 2 || undefined, 'the next value');
    expect(seen).toEqual([0, 4]); // coalesced to the newest
  });

  it('holds the acknowledgement while a handler deferred it, and across every handler of the topic', async () => {
    const { relay, url } = await startRelay({ topics });
    const client = connect({ url });
    const frames: TopicEvent<unknown>[] = [];
    const draws: (() => void)[] = [];
    client.subscribe('image', (event) => {
      frames.push(event);
      draws.push(event.defer()); // drawn later, e.g. on the next animation frame
    });
    let second: (() => void) | undefined;
    client.subscribe('image', (event) => {
      second = event.defer();
    });
    await waitFor(() => peer(relay)?.windowedTopics === 1 || undefined, 'the windowed subscription');
    for (let index = 0; index < 4; index += 1) relay.publishFrame('image', { dtype: 'uint8', shape: [1] }, Uint8Array.of(index));
    await waitFor(() => frames.length === 1 || undefined, 'the first frame');
    await sleep(100);
    expect(frames).toHaveLength(1);
    draws[0]!();
    draws[0]!(); // a second call does nothing
    await sleep(100);
    expect(frames).toHaveLength(1); // the other handler has not drawn yet
    expect(peer(relay).unackedMessages).toBe(1);
    second?.();
    await waitFor(() => frames.length === 2 || undefined, 'the newest frame');
    expect(frames[1]).toMatchObject({ kind: 'frame', seq: 3 });
  });

  it('acknowledges a value whose payload was refused, so one bad value does not stall its topic', async () => {
    const { relay, url } = await startRelay({ topics: [{ name: 'state', mode: 'latest', schema: 'demo/count' }] });
    const client = connect({
      url,
      payloadValidators: {
        'demo/count': (payload) => {
          if (typeof payload !== 'number') throw new TypeError('a count is a number');
          return payload;
        },
      },
    });
    const errors: string[] = [];
    client.onError((error) => errors.push(error.code));
    const seen: unknown[] = [];
    client.subscribe('state', (event) => void seen.push(event.kind === 'data' ? event.payload : undefined));
    await waitFor(() => peer(relay)?.windowedTopics === 1 || undefined, 'the windowed subscription');
    relay.publish('state', 'many');
    await waitFor(() => errors.length === 1 || undefined, 'the refusal');
    relay.publish('state', 7);
    await waitFor(() => seen.length === 1 || undefined, 'the next value');
    expect(seen).toEqual([7]);
  });

  it('does not acknowledge stream topics, nor anything with window 0', async () => {
    const { relay, url } = await startRelay({ topics });
    const client = connect({ url, window: 0 });
    const seen: number[] = [];
    client.subscribe('state', (event) => void seen.push(event.seq));
    client.subscribe('events', () => undefined);
    await waitFor(() => peer(relay)?.subscriptions.length === 2 || undefined, 'the subscriptions');
    expect(peer(relay)).toMatchObject({ windowedTopics: 0 });
    await publishMany(relay, 50);
    await waitFor(() => seen.length === 50 || undefined, 'every value');
    expect(() => connect({ url, window: 17 })).toThrow(expect.objectContaining({ code: 'RELAY_CLIENT_INVALID_OPTIONS' }));
  });

  it('never acknowledges a value of an ended subscription on the next one (seqs restart with a re-declared topic)', async () => {
    const { relay, url } = await startRelay({ topics });
    const client = connect({ url });
    const errors: string[] = [];
    client.onError((error) => errors.push(error.code));
    const held: (() => void)[] = [];
    const seen: number[] = [];
    client.subscribe('state', (event) => {
      seen.push(event.seq);
      held.push(event.defer());
    });
    await waitFor(() => peer(relay)?.windowedTopics === 1 || undefined, 'the windowed subscription');
    for (let index = 0; index < 6; index += 1) {
      relay.publish('state', { index });
      await waitFor(() => seen.length === index + 1 || undefined, `value ${index}`);
      held.at(-1)!();
    }
    relay.publish('state', { index: 6 });
    await waitFor(() => seen.at(-1) === 6 || undefined, 'value 6');
    const late = held.at(-1)!; // seq 6 of the old topic, still being drawn
    relay.retireTopic('state');
    relay.declareTopic(topics[0]!);
    await waitFor(() => peer(relay)?.windowedTopics === 1 || undefined, 'the new subscription');
    late(); // would be `handled {state, 6}`: a value the new topic never sent
    relay.publish('state', { index: 0 });
    await waitFor(() => seen.at(-1) === 0 || undefined, 'the new topic\'s first value');
    held.at(-1)!();
    await waitFor(() => peer(relay).unackedMessages === 0 || undefined, 'its acknowledgement');
    expect(errors).toEqual([]);
    expect(peer(relay).acksDistrusted).toBe(false);
  });

  it('neither asks for a window nor acknowledges when the server speaks 1.1', async () => {
    // An older server, as far as this client can tell: its hello says 1.1.0. It records what the client sends.
    const received: ClientMessage[] = [];
    const server = createServer();
    const wss = new WebSocketServer({ server, handleProtocols: () => 'webmon.v1' });
    wss.on('connection', (socket) => {
      socket.send(JSON.stringify({ type: 'hello', protocol: 'webmon.v1', version: '1.1.0', sessionId: 'old', topics: [{ name: 'state', mode: 'latest', schema: 'webmon.v1/json' }], time: 1 }));
      socket.on('message', (data) => {
        const message = JSON.parse(data.toString()) as ClientMessage;
        received.push(message);
        if (message.type === 'subscribe') {
          socket.send(JSON.stringify({ type: 'snapshot', topic: 'state', items: [{ seq: 0, time: 1, payload: 0 }] }));
          socket.send(JSON.stringify({ type: 'data', topic: 'state', seq: 1, time: 2, payload: 1 }));
        }
        if (message.type === 'ping') socket.send(JSON.stringify({ type: 'pong', id: message.id, clientTime: message.time, time: 3 }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      for (const socket of wss.clients) socket.terminate();
      wss.close();
      await new Promise((resolve) => server.close(resolve));
    });
    const client = connect({ url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws` });
    const seen: number[] = [];
    client.subscribe('state', (event) => void seen.push(event.seq));
    await waitFor(() => seen.length === 2 || undefined, 'both values');
    await client.ping(); // anything the client sent before the ping is in by now
    expect(received.find((message) => message.type === 'subscribe')).toEqual({ type: 'subscribe', topics: ['state'] });
    expect(received.filter((message) => message.type === 'handled')).toEqual([]);
  });
});

describe('Acknowledger: when a value is settled (the moment a borrowed frame is given back)', () => {
  const infos = [
    { name: 'image', mode: 'latest' as const, schema: 'array', binary: true },
    { name: 'events', mode: 'stream' as const, schema: 'events' },
  ];
  const acknowledger = (window = 1) => {
    const sent: string[] = [];
    const acks = new Acknowledger(window, (topic, seq) => sent.push(`${topic}#${seq}`));
    acks.connected('1.6.0', infos);
    return { acks, sent };
  };
  type Handler = Parameters<Acknowledger['dispatch']>[0] extends Iterable<infer H> ? H : never;

  it('settles a value once, with its acknowledgement, after every handler and every defer is done', () => {
    const { acks, sent } = acknowledger();
    const settled: string[] = [];
    const holds: (() => void)[] = [];
    const handlers: Handler[] = [(event) => void holds.push(event.defer()), (event) => void holds.push(event.defer())];
    acks.dispatch(handlers, { topic: 'image', seq: 4 }, true, () => settled.push(`settled, acks ${sent.join(' ')}`));
    expect(settled).toEqual([]);
    holds[0]!();
    holds[0]!();
    expect(settled).toEqual([]);
    holds[1]!();
    expect(settled).toEqual(['settled, acks image#4']);
  });

  it('settles values that are never acknowledged (a stream topic, no window) when their handlers are done, defer included', async () => {
    for (const [window, topic] of [[1, 'events'], [0, 'image']] as const) {
      const { acks, sent } = acknowledger(window);
      let settled = 0;
      let hold: (() => void) | undefined;
      acks.dispatch([(event) => void (hold = event.defer())], { topic, seq: 1 }, true, () => (settled += 1));
      expect(settled).toBe(0);
      hold!();
      expect(settled).toBe(1);
      let finish: (() => void) | undefined;
      acks.dispatch([() => new Promise<void>((resolve) => (finish = resolve))], { topic, seq: 2 }, true, () => (settled += 1));
      await sleep(1);
      expect(settled).toBe(1);
      finish!();
      await sleep(1);
      expect(settled).toBe(2);
      expect(sent).toEqual([]);
    }
  });

  it('settles a value that reached no handler at once', () => {
    const { acks } = acknowledger();
    let settled = 0;
    acks.dispatch([], { topic: 'image', seq: 2 }, true, () => (settled += 1));
    expect(settled).toBe(1);
  });
});
