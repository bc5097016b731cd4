/**
 * What replay needs of the relay (protocol 1.5), over real sockets on port 0: a session restarted on open
 * connections, the timeline, recorded time stamps, the history of JSON `latest` topics in their snapshot
 * (with credits), and commands refused with `NOT_LIVE`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { HelloMessage, SnapshotMessage } from '@webmon/protocol';
import { RelayCommandError, RelayError } from '../src/index.js';
import { cleanup, connect, dataOf, settle, startRelay, subscribe, subscribed, waitFor } from './helpers.js';

afterEach(cleanup);

const T0 = 1_700_000_000_000;
const topics = [
  { name: 'stats', mode: 'latest' as const, replayMs: 1_000 },
  { name: 'layers', mode: 'latest' as const },
  { name: 'ticks', mode: 'stream' as const, replayMs: 1_000 },
  { name: 'image', mode: 'latest' as const, binary: true, replayMs: 1_000 },
];

const snapshotOf = (messages: readonly { type: string }[], topic: string, from = 0): SnapshotMessage | undefined =>
  messages.slice(from).find((message): message is SnapshotMessage => message.type === 'snapshot' && (message as SnapshotMessage).topic === topic);

describe('a latest JSON topic with replayMs', () => {
  it('announces replayMs (not for a binary latest topic) and snapshots the window before now, oldest first, the newest last', async () => {
    const { relay, url } = await startRelay({ topics });
    expect(relay.topics.find((topic) => topic.name === 'stats')).toMatchObject({ replayMs: 1_000 });
    expect(relay.topics.find((topic) => topic.name === 'image')).not.toHaveProperty('replayMs');
    const now = Date.now();
    for (const age of [5_000, 900, 500, 100]) relay.publish('stats', { age }, { time: now - age });
    relay.publish('layers', { one: 1 });
    relay.publish('layers', { two: 2 });
    const client = await subscribed(url, ['stats', 'layers']);
    const stats = snapshotOf(client.messages, 'stats');
    expect(stats?.items.map((item) => item.payload)).toEqual([{ age: 900 }, { age: 500 }, { age: 100 }]);
    expect(stats?.items.map((item) => item.time)).toEqual([now - 900, now - 500, now - 100]);
    expect(snapshotOf(client.messages, 'layers')?.items.map((item) => item.payload)).toEqual([{ two: 2 }]);
  });

  it('keeps the newest value when it is older than the window: it is the current state', async () => {
    const { relay, url } = await startRelay({ topics });
    relay.publish('stats', { old: true }, { time: Date.now() - 60_000 });
    const client = await subscribed(url, ['stats']);
    expect(snapshotOf(client.messages, 'stats')?.items.map((item) => item.payload)).toEqual([{ old: true }]);
  });

  it('bounds the window by replayMaxItems', async () => {
    const { relay, url } = await startRelay({ topics: [{ name: 'stats', mode: 'latest', replayMs: 60_000, replayMaxItems: 3 }] });
    for (let index = 0; index < 10; index += 1) relay.publish('stats', index);
    const client = await subscribed(url, ['stats']);
    expect(snapshotOf(client.messages, 'stats')?.items.map((item) => item.payload)).toEqual([7, 8, 9]);
  });

  it('with a credit window: every snapshot item is in flight; acknowledging the newest frees the window, items one by one are fine too', async () => {
    const { relay, url } = await startRelay({ topics });
    for (let index = 0; index < 5; index += 1) relay.publish('stats', index);
    // A 1.5 client acknowledges only the newest item.
    const quick = await subscribed(url, ['stats'], 1);
    const items = snapshotOf(quick.messages, 'stats')!.items;
    expect(items.map((item) => item.seq)).toEqual([0, 1, 2, 3, 4]);
    relay.publish('stats', 5); // waits: the window (1) is full with the snapshot
    await settle(quick);
    expect(dataOf(quick.messages, 'stats')).toEqual([]);
    quick.send({ type: 'handled', topic: 'stats', seq: 4 });
    await quick.next('data');
    expect(dataOf(quick.messages, 'stats').map((message) => message.payload)).toEqual([5]);

    // A 1.4 client acknowledges every item: none is BAD_ACK, none is charged, and delivery goes on.
    const old = await subscribed(url, ['stats'], 1);
    const oldItems = snapshotOf(old.messages, 'stats')!.items;
    for (const item of oldItems) old.send({ type: 'handled', topic: 'stats', seq: item.seq });
    const from = old.messages.length;
    relay.publish('stats', 6);
    await old.next('data', from);
    await settle(old);
    expect(old.messages.filter((message) => message.type === 'error')).toEqual([]);
    expect(relay.stats().clients.every((client) => !client.acksDistrusted)).toBe(true);
    // A seq the snapshot never held is still BAD_ACK.
    old.send({ type: 'handled', topic: 'stats', seq: 99 });
    const error = await old.next('error');
    expect(error.code).toBe('BAD_ACK');
  });
});

describe('publish with a recorded time', () => {
  it('keeps the time stamp given, and refuses one that is not a time', async () => {
    const { relay, url } = await startRelay({ topics });
    const client = await subscribed(url, ['layers', 'ticks']);
    relay.publish('layers', { a: 1 }, { time: T0 });
    relay.publish('ticks', 1, { time: T0 + 5 });
    await waitFor(() => dataOf(client.messages, 'ticks').length === 1, 'the tick');
    expect(dataOf(client.messages, 'layers')[0]?.time).toBe(T0);
    expect(dataOf(client.messages, 'ticks')[0]?.time).toBe(T0 + 5);
    expect(() => relay.publish('layers', 1, { time: Number.NaN })).toThrow(RelayError);
    expect(() => relay.publish('layers', 1, { time: -1 })).toThrow(expect.objectContaining({ code: 'RELAY_BAD_PAYLOAD' }));
  });
});

describe('the timeline', () => {
  it('goes to every page on change, after hello to a page that connects later, and is the clock of replay windows', async () => {
    const { relay, url } = await startRelay({ topics });
    const early = await connect(url);
    relay.setTimeline({ state: 'paused', cursor: T0 + 10_000, start: T0, end: T0 + 60_000, speed: 1 });
    const first = await early.next('timeline');
    expect(first).toMatchObject({ state: 'paused', cursor: T0 + 10_000, start: T0, end: T0 + 60_000, speed: 1 });
    expect(relay.timeline).toEqual(first);

    // Recorded values around the cursor: the replay window is the second before the cursor, not before the wall clock.
    for (const offset of [8_000, 9_200, 9_900]) relay.publish('stats', { offset }, { time: T0 + offset });
    relay.publish('ticks', 'old', { time: T0 + 8_500 });
    relay.publish('ticks', 'recent', { time: T0 + 9_500 });
    const late = await connect(url);
    const hello = late.messages.findIndex((message) => message.type === 'hello');
    const timeline = late.messages.findIndex((message) => message.type === 'timeline');
    expect(timeline).toBe(hello + 1);
    await subscribe(late, { topics: ['stats', 'ticks'] });
    expect(snapshotOf(late.messages, 'stats')?.items.map((item) => item.payload)).toEqual([{ offset: 9_200 }, { offset: 9_900 }]);
    expect(snapshotOf(late.messages, 'ticks')?.items.map((item) => item.payload)).toEqual(['recent']);

    relay.setTimeline({ state: 'playing', cursor: T0 + 10_000, start: T0, end: T0 + 60_000, speed: 2 });
    const playing = await early.next('timeline', early.messages.indexOf(first) + 1);
    expect(playing).toMatchObject({ state: 'playing', speed: 2 });
    expect(() => relay.setTimeline({ state: 'playing', cursor: T0, start: T0, end: T0, speed: 16 })).toThrow(expect.objectContaining({ code: 'RELAY_INVALID_OPTIONS' }));
    expect(relay.timeline).toEqual(playing);

    relay.setTimeline(undefined);
    const after = await connect(url);
    await settle(after);
    expect(after.messages.some((message) => message.type === 'timeline')).toBe(false);
  });
});

describe('restartSession', () => {
  it('sends a new hello (then the timeline) on the open connections, drops every value and subscription; resubscribing gets the new session', async () => {
    const { relay, url } = await startRelay({ topics });
    relay.setStatus('source.connected', { source: 'demo' });
    relay.setTimeline({ state: 'paused', cursor: T0, start: T0, end: T0 + 1_000, speed: 1 });
    relay.publish('stats', { before: true }, { time: T0 });
    relay.publish('layers', { before: true });
    relay.publishFrame('image', { dtype: 'uint8', shape: [2] }, new Uint8Array([1, 2]));
    const client = await subscribed(url, ['stats', 'layers', 'ticks', 'image'], 1);
    const firstHello = client.messages.find((message): message is HelloMessage => message.type === 'hello')!;
    const from = client.messages.length;

    const session = relay.restartSession();
    expect(session).not.toBe(firstHello.sessionId);
    expect(relay.sessionId).toBe(session);
    const hello = await client.next('hello', from);
    expect(hello.sessionId).toBe(session);
    expect(hello.topics.map((topic) => topic.name)).toEqual(['stats', 'layers', 'ticks', 'image']);
    await settle(client);
    const after = client.messages.slice(client.messages.indexOf(hello));
    expect(after[1]?.type).toBe('timeline');
    expect(after.some((message) => message.type === 'status' && message.code === 'source.connected')).toBe(true);
    expect(relay.stats().clients[0]).toMatchObject({ subscriptions: [], windowedTopics: 0, unackedMessages: 0, queuedMessages: 0 });

    // Not subscribed any more: nothing of the new session arrives until the page subscribes again.
    relay.publish('ticks', 'unseen');
    await settle(client);
    expect(dataOf(client.messages.slice(from), 'ticks')).toEqual([]);

    // The new session's snapshots: the old values are gone; seq numbers go on.
    relay.publish('stats', { after: true }, { time: T0 + 1 });
    const again = client.messages.length;
    await subscribe(client, { topics: ['stats', 'layers', 'image'], window: 1 });
    const stats = snapshotOf(client.messages, 'stats', again);
    expect(stats?.items.map((item) => item.payload)).toEqual([{ after: true }]);
    expect(stats?.items[0]?.seq).toBe(1);
    expect(snapshotOf(client.messages, 'layers', again)?.items).toEqual([]);
    expect(snapshotOf(client.messages, 'image', again)).toMatchObject({ items: [], binaryFrames: 0 });

    // The credit window is the new one: acknowledging the new snapshot works; the old session's seqs are stale, not BAD_ACK.
    client.send({ type: 'handled', topic: 'stats', seq: 1 });
    client.send({ type: 'handled', topic: 'layers', seq: 0 });
    relay.publish('stats', { live: true });
    await waitFor(() => dataOf(client.messages.slice(again), 'stats').length === 1, 'the next value');
    await settle(client);
    expect(client.messages.slice(from).filter((message) => message.type === 'error')).toEqual([]);
  });

  it('drops what waited for a page whose window was full, and its first snapshot after the restart is free', async () => {
    const { relay, url } = await startRelay({ topics, snapshotRate: { perSecond: 1, burst: 1 } });
    const client = await subscribed(url, ['layers'], 1);
    for (let index = 0; index < 3; index += 1) relay.publish('layers', { index }); // 0 sent, 2 waits (window full)
    await waitFor(() => dataOf(client.messages, 'layers').length === 1, 'the first value');
    expect(relay.stats().clients[0]).toMatchObject({ queuedMessages: 1 });
    const from = client.messages.length;
    relay.restartSession();
    await client.next('hello', from);
    expect(relay.stats().clients[0]).toMatchObject({ queuedMessages: 0, unackedMessages: 0 });
    relay.publish('layers', { fresh: true });
    await subscribe(client, { topics: ['layers'], window: 1 });
    // A repeated subscription would be charged from the (tiny) snapshot budget: after a restart it is a first one.
    expect(snapshotOf(client.messages, 'layers', from)?.items.map((item) => item.payload)).toEqual([{ fresh: true }]);
    expect(dataOf(client.messages.slice(from), 'layers')).toEqual([]);
  });
});

describe('commands during replay', () => {
  it('a handler throwing RelayCommandError NOT_LIVE refuses every command with that wire code', async () => {
    const { relay, url } = await startRelay({ topics });
    relay.onCommand((name) => {
      throw new RelayCommandError('NOT_LIVE', `replaying a recording: ${name} is not run`);
    });
    const client = await connect(url);
    client.send({ type: 'command', id: 'c1', name: 'reset_view', args: null });
    const error = await client.next('error');
    expect(error).toMatchObject({ id: 'c1', code: 'NOT_LIVE', message: 'replaying a recording: reset_view is not run' });
  });
});
