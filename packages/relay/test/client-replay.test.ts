/** The browser client (on `ws` in Node) against a real relay that replays (protocol 1.5). */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { TimelineMessage } from '@webmon/protocol';
import { createRelayClient, timelineCursor, type RelayClient, type RelayClientError, type SessionChange, type TopicEvent, type WebSocketConstructor } from '../src/client.js';
import { cleanup, record, startRelay, waitFor } from './helpers.js';

const clients: RelayClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await cleanup();
});

const T0 = 1_700_000_000_000;
const topics = [
  { name: 'stats', mode: 'latest' as const, replayMs: 1_000 },
  { name: 'ticks', mode: 'stream' as const, replayMs: 1_000 },
];

function connect(url: string): RelayClient {
  const client = createRelayClient({ url, WebSocket: WebSocket as unknown as WebSocketConstructor, backoff: { initialMs: 50, maxMs: 500 } });
  clients.push(client);
  return client;
}

describe('relay client during replay', () => {
  it('keeps the timeline current (client.timeline, onTimeline) and forgets it when the connection closes', async () => {
    const { relay, url } = await startRelay({ topics });
    relay.setTimeline({ state: 'paused', cursor: T0 + 5_000, start: T0, end: T0 + 10_000, speed: 1 });
    const client = connect(url);
    const seen: (TimelineMessage | undefined)[] = [];
    client.onTimeline((timeline) => seen.push(timeline));
    await waitFor(() => client.timeline, 'the timeline after hello');
    expect(client.timeline).toMatchObject({ state: 'paused', cursor: T0 + 5_000 });
    expect(timelineCursor(client.timeline!)).toBe(T0 + 5_000);

    relay.setTimeline({ state: 'playing', cursor: T0 + 5_000, start: T0, end: T0 + 10_000, speed: 2, time: 1_000 });
    await waitFor(() => client.timeline?.state === 'playing', 'playing');
    // Extrapolated on the server's clock, clamped to the recording.
    expect(timelineCursor(client.timeline!, 2_000)).toBe(T0 + 7_000);
    expect(timelineCursor(client.timeline!, 100_000)).toBe(T0 + 10_000);
    expect(seen.map((timeline) => timeline?.state)).toEqual(['paused', 'playing']);

    await relay.close();
    await waitFor(() => client.timeline === undefined, 'the timeline gone with the connection');
    expect(seen.at(-1)).toBeUndefined();
  });

  it('(1.6) setTimeline(undefined) reaches the pages: their timeline goes (notimeline), and a new one comes back', async () => {
    const { relay, url } = await startRelay({ topics });
    relay.setTimeline({ state: 'playing', cursor: T0, start: T0, end: T0 + 10_000, speed: 1 });
    const client = connect(url);
    const errors: RelayClientError[] = [];
    client.onError((error) => errors.push(error));
    const seen: (TimelineMessage | undefined)[] = [];
    client.onTimeline((timeline) => seen.push(timeline));
    await waitFor(() => client.timeline, 'the timeline after hello');

    relay.setTimeline(undefined);
    expect(relay.timeline).toBeUndefined();
    await waitFor(() => client.timeline === undefined, 'the timeline cleared on the page');
    expect(seen.map((timeline) => timeline?.state)).toEqual(['playing', undefined]);
    // Still connected: the clearing is a message on the open connection, not a reconnect.
    expect(client.state).toBe('open');

    // Cleared twice: nothing more is sent. A timeline set again reaches the page again.
    relay.setTimeline(undefined);
    relay.setTimeline({ state: 'paused', cursor: T0 + 1_000, start: T0, end: T0 + 10_000, speed: 1 });
    await waitFor(() => client.timeline?.state === 'paused', 'a new timeline');
    expect(seen.map((timeline) => timeline?.state)).toEqual(['playing', undefined, 'paused']);
    expect(errors).toEqual([]);
  });

  it('onConnect tells of each admitted client after its hello and timeline, not of a refused one', async () => {
    const { relay, url } = await startRelay({ topics });
    relay.setTimeline({ state: 'paused', cursor: T0, start: T0, end: T0 + 10_000, speed: 1 });
    const connected: string[] = [];
    // What a waiting replay does: play when the first page is there. The page then sees paused, then playing.
    relay.onConnect((client) => {
      connected.push(client.id);
      if (connected.length === 1) relay.setTimeline({ state: 'playing', cursor: T0, start: T0, end: T0 + 10_000, speed: 1 });
    });
    let brokenCalls = 0;
    relay.onConnect(() => {
      brokenCalls++;
      throw new Error('a broken listener');
    });
    const refused = record(url, { headers: { origin: 'http://evil.example' } });
    expect(await refused.opened).toBe(true);
    expect((await refused.closed).code).toBe(4003);
    expect(connected).toEqual([]);

    const client = connect(url);
    const seen: (TimelineMessage | undefined)[] = [];
    client.onTimeline((timeline) => seen.push(timeline));
    await waitFor(() => client.timeline?.state === 'playing', 'playing once the page is there');
    expect(seen.map((timeline) => timeline?.state)).toEqual(['paused', 'playing']);
    expect(connected).toHaveLength(1);
    // The broken listener was removed after its throw; the second client is reported too, and changes nothing.
    const second = connect(url);
    await waitFor(() => second.timeline?.state === 'playing', 'the second page');
    expect(connected).toHaveLength(2);
    expect(brokenCalls).toBe(1);
  });

  it('restartSession: handlers get the new snapshot (replay: true), acknowledgements keep flowing, no BAD_ACK', async () => {
    const { relay, url } = await startRelay({ topics });
    const client = connect(url);
    const errors: RelayClientError[] = [];
    client.onError((error) => errors.push(error));
    const sessions: SessionChange[] = [];
    client.onSessionChange((change) => sessions.push(change));
    const stats: TopicEvent<unknown>[] = [];
    const ticks: TopicEvent<unknown>[] = [];
    client.subscribe('stats', (event) => void stats.push(event));
    client.subscribe('ticks', (event) => void ticks.push(event));
    await waitFor(() => relay.stats().clients[0]?.subscriptions.length === 2, 'the subscriptions');
    for (let index = 0; index < 20; index += 1) relay.publish('stats', { index });
    await waitFor(() => stats.at(-1)?.kind === 'data' && (stats.at(-1) as { payload: { index: number } }).payload.index === 19, 'every live value');

    // A seek: the relay restarts the session and the driver publishes the values at the cursor.
    const cursor = Date.now();
    relay.restartSession();
    for (const age of [800, 400, 0]) relay.publish('stats', { age }, { time: cursor - age });
    relay.publish('ticks', 'at the cursor', { time: cursor });
    await waitFor(() => sessions.length === 1, 'the session change');
    await waitFor(() => ticks.length === 1, 'the tick of the new session');
    await waitFor(() => stats.filter((event) => event.replay).length === 3, 'the new snapshot');
    const snapshot = stats.filter((event) => event.replay);
    expect(snapshot.map((event) => (event.kind === 'data' ? event.payload : undefined))).toEqual([{ age: 800 }, { age: 400 }, { age: 0 }]);
    expect(snapshot.map((event) => event.time)).toEqual([cursor - 800, cursor - 400, cursor]);

    // Acknowledgements flow on the new session's window: live values keep arriving one after another.
    for (let index = 0; index < 30; index += 1) {
      relay.publish('stats', { live: index });
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await waitFor(() => {
      const last = stats.at(-1);
      return last?.kind === 'data' && (last.payload as { live?: number }).live === 29;
    }, 'the last live value');
    const client0 = relay.stats().clients[0]!;
    expect(client0).toMatchObject({ acksDistrusted: false, windowedTopics: 1 });
    expect(errors).toEqual([]);
    expect(client.sessionId).toBe(relay.sessionId);
  });

  it('a host that remounts its pages during the new hello subscribes each topic once, and unsubscribes nothing', async () => {
    const sent: string[] = [];
    // The real socket, with what the client writes noted.
    class NotingWebSocket extends WebSocket {
      override send(data: unknown, ...rest: unknown[]): void {
        sent.push(String(data));
        (WebSocket.prototype.send as (...args: unknown[]) => void).call(this, data, ...rest);
      }
    }
    const { relay, url } = await startRelay({ topics });
    const client = createRelayClient({ url, WebSocket: NotingWebSocket as unknown as WebSocketConstructor });
    clients.push(client);
    const seen: unknown[] = [];
    let off = client.subscribe('stats', (event) => void seen.push(event.kind === 'data' ? event.payload : undefined));
    client.onSessionChange(() => {
      // What the page host does: the old page's handler goes, the new page's comes.
      off();
      off = client.subscribe('stats', (event) => void seen.push(event.kind === 'data' ? event.payload : undefined));
    });
    await waitFor(() => relay.stats().clients[0]?.subscriptions.length === 1, 'the first subscription');
    const from = sent.length;
    relay.restartSession();
    relay.publish('stats', { fresh: true });
    await waitFor(() => seen.length === 1, 'the new session’s snapshot');
    const wire = sent.slice(from).map((text) => JSON.parse(text) as { type: string; topics?: string[] });
    expect(wire.filter((message) => message.type === 'unsubscribe')).toEqual([]);
    expect(wire.filter((message) => message.type === 'subscribe').map((message) => message.topics)).toEqual([['stats']]);
    expect(seen).toEqual([{ fresh: true }]);
  });
});
