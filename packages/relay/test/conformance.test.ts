/**
 * Conformance of the relay over real sockets on port 0: handshake, delivery modes, backpressure,
 * security checks, malformed input, commands, binary frames.
 */
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CloseCode, decodeFrame, type DataMessage, type ServerMessage } from '@webmon/protocol';
import { RelayCommandError, RelayErrorCode, createRelay, generateToken, requestTarget } from '../src/index.js';
import { cleanup, record, relays, spawnStallableClient, startRelay, waitFor } from './helpers.js';

afterEach(cleanup);

const topics = [
  { name: 'demo.state', mode: 'latest' as const, schema: 'demo/state' },
  { name: 'demo.ticks', mode: 'stream' as const, schema: 'demo/tick', replayMs: 10_000 },
  { name: 'events', mode: 'stream' as const },
  { name: 'image', mode: 'latest' as const, binary: true, schema: 'webmon.v1/frame' },
  { name: 'image-stream', mode: 'stream' as const, binary: true, replayMs: 10_000 },
];

const dataOf = (messages: ServerMessage[], topic: string) =>
  messages.filter((message): message is DataMessage => message.type === 'data' && message.topic === topic);

describe('handshake', () => {
  it('negotiates webmon.v1 and greets with the session id, the topics and the current status', async () => {
    const { relay, url } = await startRelay({ topics });
    relay.setStatus('source.connected', { source: 'demo' });
    const client = record(url);
    const hello = await client.next('hello');
    expect(client.socket.protocol).toBe('webmon.v1');
    expect(hello.sessionId).toBe(relay.sessionId);
    expect(hello.topics).toEqual([
      { name: 'demo.state', mode: 'latest', schema: 'demo/state' },
      { name: 'demo.ticks', mode: 'stream', schema: 'demo/tick', replayMs: 10_000 },
      { name: 'events', mode: 'stream', schema: 'webmon.v1/json' },
      { name: 'image', mode: 'latest', schema: 'webmon.v1/frame', binary: true },
      { name: 'image-stream', mode: 'stream', schema: 'webmon.v1/json', binary: true, replayMs: 10_000 },
    ]);
    const status = await client.next('status');
    expect(status).toMatchObject({ code: 'source.connected', source: 'demo' });
    expect(client.messages.indexOf(hello)).toBeLessThan(client.messages.indexOf(status));

    relay.setStatus('source.disconnected');
    await client.next('status', 0, (message) => message.code === 'source.disconnected');
  });

  it('closes with 4002 when the client does not offer webmon.v1', async () => {
    const { url } = await startRelay({ topics });
    const client = record(url, { protocols: ['chat'] });
    expect(await client.closed).toEqual({ code: CloseCode.UNSUPPORTED_PROTOCOL, reason: 'UNSUPPORTED_PROTOCOL' });
    expect(client.messages).toEqual([]);
  });

  it('answers other paths with 404 and refuses connections beyond maxConnections with 4029', async () => {
    const { url } = await startRelay({ topics, maxConnections: 2 });
    const wrongPath = record(url.replace('/ws', '/other'));
    expect(await wrongPath.opened).toBe(false);
    const first = record(url);
    const second = record(url);
    await first.next('hello');
    await second.next('hello');
    const third = record(url);
    expect(await third.closed).toEqual({ code: CloseCode.TOO_MANY_CONNECTIONS, reason: 'TOO_MANY_CONNECTIONS' });
    first.socket.close();
    await first.closed;
    const fourth = record(url);
    await waitFor(() => fourth.messages.some((message) => message.type === 'hello') || undefined, 'a free slot after a close');
  });

  it('attaches to an app server at a path and leaves its other routes alone', async () => {
    const app = createServer((_request, response) => response.end('app page'));
    const relay = createRelay({ server: app, path: '/ws', topics, heartbeatMs: 0 });
    relays.push(relay);
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    try {
      const address = relay.address();
      expect(address?.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ws$/);
      const page = await fetch(`http://127.0.0.1:${address?.port}/`);
      expect(await page.text()).toBe('app page');
      const client = record(address!.url);
      await client.next('hello');
      await expect(relay.listen()).rejects.toMatchObject({ code: RelayErrorCode.ALREADY_LISTENING });
    } finally {
      await relay.close();
      app.closeAllConnections();
      await new Promise((resolve) => app.close(resolve));
    }
  });
});

describe('latest topics', () => {
  it('gives a late joiner only the newest value, then every later one', async () => {
    const { relay, url } = await startRelay({ topics });
    for (let index = 0; index < 5; index += 1) relay.publish('demo.state', { layers: { [String(index)]: {} } });
    const client = record(url);
    await client.next('hello');
    client.send({ type: 'subscribe', id: 'sub', topics: ['demo.state'] });
    const snapshot = await client.next('snapshot');
    expect(snapshot.items).toHaveLength(1);
    expect(snapshot.items[0]).toMatchObject({ seq: 4, payload: { layers: { '4': {} } } });
    expect(await client.next('ack')).toMatchObject({ id: 'sub', result: { subscribed: ['demo.state'], unknown: [] } });
    relay.publish('demo.state', { layers: {} });
    const data = await client.next('data');
    expect(data).toMatchObject({ topic: 'demo.state', seq: 5, payload: { layers: {} } });
  });

  it('sends an empty snapshot when nothing was published and reports unknown topics', async () => {
    const { url } = await startRelay({ topics });
    const client = record(url);
    await client.next('hello');
    client.send({ type: 'subscribe', id: 'x', topics: ['demo.state', 'nope'] });
    expect((await client.next('snapshot')).items).toEqual([]);
    expect(await client.next('error')).toMatchObject({ code: 'UNKNOWN_TOPIC', topic: 'nope' });
    expect(await client.next('ack')).toMatchObject({ id: 'x', result: { subscribed: ['demo.state'], unknown: ['nope'] } });
  });
});

describe('subscriptions', () => {
  it('stops delivery after unsubscribe and acks it', async () => {
    const { relay, url } = await startRelay({ topics });
    const client = record(url);
    await client.next('hello');
    client.send({ type: 'subscribe', id: 'on', topics: ['events'] });
    await client.next('ack');
    relay.publish('events', 1);
    await client.next('data');
    client.send({ type: 'unsubscribe', id: 'off', topics: ['events'] });
    await client.next('ack', 0, (message) => message.id === 'off');
    relay.publish('events', 2);
    client.send({ type: 'ping', id: 'after', time: 0 });
    await client.next('pong');
    expect(dataOf(client.messages, 'events').map((message) => message.payload)).toEqual([1]);
    expect(relay.stats().clients[0]?.subscriptions).toEqual([]);
  });
});

describe('stream topics', () => {
  it('replays the window to a late joiner, oldest first, then continues in order', async () => {
    const { relay, url } = await startRelay({ topics });
    for (let index = 0; index < 20; index += 1) relay.publish('demo.ticks', { time: index, delta_ms: 16.7 });
    relay.publish('events', { lost: true }); // no replay window: a late joiner gets nothing old
    const client = record(url);
    await client.next('hello');
    client.send({ type: 'subscribe', topics: ['demo.ticks', 'events'] });
    const replay = await client.next('snapshot', 0, (message) => message.topic === 'demo.ticks');
    expect(replay.items.map((item) => item.seq)).toEqual([...Array(20).keys()]);
    expect(replay.items[3]?.payload).toEqual({ time: 3, delta_ms: 16.7 });
    expect((await client.next('snapshot', 0, (message) => message.topic === 'events')).items).toEqual([]);
    relay.publish('demo.ticks', { time: 20, delta_ms: 16.7 });
    expect(await client.next('data')).toMatchObject({ seq: 20 });
  });

  it('drops replay entries older than replayMs', async () => {
    const { relay, url } = await startRelay({ topics: [{ name: 'short', mode: 'stream', replayMs: 1_000 }] });
    const client = record(url);
    await client.next('hello'); // connected first, so 'new' is fresh when the subscribe arrives
    relay.publish('short', 'old');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    relay.publish('short', 'new');
    client.send({ type: 'subscribe', topics: ['short'] });
    expect((await client.next('snapshot')).items.map((item) => item.payload)).toEqual(['new']);
  });

  it('delivers thousands of messages in publish order without loss to a reading client', async () => {
    const { relay, url } = await startRelay({ topics });
    const client = record(url);
    await client.next('hello');
    client.send({ type: 'subscribe', id: 's', topics: ['events'] });
    await client.next('ack');
    const count = 5_000;
    for (let index = 0; index < count; index += 1) relay.publish('events', { index, pad: 'x'.repeat(100) });
    await waitFor(() => dataOf(client.messages, 'events').length === count || undefined, 'every message');
    const received = dataOf(client.messages, 'events');
    expect(received.map((message) => message.seq)).toEqual([...Array(count).keys()]);
    expect(received.every((message, index) => (message.payload as { index: number }).index === index)).toBe(true);
    expect(client.messages.some((message) => message.type === 'gap')).toBe(false);
  });
});

describe('backpressure', () => {
  const budget = { highWaterMark: 64 * 1024, lowWaterMark: 16 * 1024, maxQueuedMessages: 200, maxQueuedBytes: 256 * 1024 };

  it('drops the oldest messages of a client that stops reading and tells it the gap when it resumes', async () => {
    const { relay, url } = await startRelay({ topics, ...budget });
    const slow = spawnStallableClient(url, ['events', 'demo.state']);
    await waitFor(() => slow.lines.some((line) => (line as { type: string }).type === 'ack') || undefined, 'the slow client to subscribe');
    slow.stop();
    const payload = { pad: 'y'.repeat(1_000) };
    let published = 0;
    let layerValue = 0;
    // Publish until the stalled client's queue overflows: kernel socket buffers absorb the first megabytes.
    await waitFor(() => {
      for (let index = 0; index < 500; index += 1) relay.publish('events', { ...payload, index: published++ });
      relay.publish('demo.state', { layers: { [String(layerValue++)]: {} } });
      return (relay.stats().clients[0]?.droppedMessages ?? 0) > 1_000 || undefined;
    }, 'drops for the stalled client', 60_000);
    // Several layer values while blocked: only the newest may be sent.
    for (let index = 0; index < 3; index += 1) relay.publish('demo.state', { layers: { [String(layerValue++)]: {} } });
    const stats = relay.stats().clients[0]!;
    expect(stats.blocked).toBe(true);
    expect(stats.queuedBytes).toBeLessThanOrEqual(budget.maxQueuedBytes);
    expect(stats.inflightBytes).toBeLessThanOrEqual(budget.highWaterMark + 2_000);
    const lastSeq = published - 1;
    const lastLayers = String(layerValue - 1);
    slow.resume();
    const received = () => slow.lines.filter((line) => (line as { type: string; topic?: string }).type === 'data' && (line as { topic: string }).topic === 'events') as DataMessage[];
    await waitFor(() => received().at(-1)?.seq === lastSeq || undefined, 'the newest message after resuming', 60_000);
    const gaps = slow.lines.filter((line) => (line as { type: string }).type === 'gap') as { dropped: number; fromSeq: number; toSeq: number }[];
    expect(gaps.length).toBeGreaterThan(0);
    const seqs = received().map((message) => message.seq);
    // In order, and everything missing is accounted for by gap notices.
    expect(seqs.every((seq, index) => index === 0 || seq > seqs[index - 1]!)).toBe(true);
    const dropped = gaps.reduce((sum, gap) => sum + gap.dropped, 0);
    expect(seqs.length + dropped).toBe(published);
    // The latest topic ends on its newest value, intermediate ones skipped.
    const layers = slow.lines.filter((line) => (line as { topic?: string }).topic === 'demo.state' && (line as { type: string }).type === 'data') as DataMessage[];
    expect(Object.keys((layers.at(-1)?.payload as { layers: object }).layers)).toEqual([lastLayers]);
    expect(relay.stats().clients[0]!.skippedLatest).toBeGreaterThan(0);
  });

  it('keeps a stalled client within its budget while the others receive everything', async () => {
    // Room for a fast reader's queue to ride out a busy moment (a 256 KiB frame ahead of 50 messages a
    // round); the stalled client must still drop most of the 10,000 messages and stay within this budget.
    const roomy = { ...budget, maxQueuedMessages: 2_000, maxQueuedBytes: 2 * 2 ** 20 };
    const { relay, url } = await startRelay({ topics, ...roomy });
    const slow = spawnStallableClient(url, ['events', 'image']);
    await waitFor(() => slow.lines.some((line) => (line as { type: string }).type === 'ack') || undefined, 'the slow client to subscribe');
    slow.stop();
    const fast = [record(url), record(url), record(url)];
    for (const client of fast) {
      await client.next('hello');
      client.send({ type: 'subscribe', id: 's', topics: ['events', 'image'] });
      await client.next('ack');
    }
    const image = new Uint8Array(256 * 1024);
    const rounds = 200;
    const perRound = 50;
    for (let round = 0; round < rounds; round += 1) {
      for (let index = 0; index < perRound; index += 1) relay.publish('events', { round, index, pad: 'z'.repeat(500) });
      image.fill(round % 256);
      relay.publishFrame('image', { dtype: 'uint8', shape: [512, 512] }, image.slice());
      // Let the sockets drain between rounds, as a 60 Hz publisher would (a few ms, not just a turn of
      // the loop: the fast clients live in this process, and on a busy machine a bare setImmediate left
      // them too little time to read, so they overflowed their queues and the test timed out).
      await new Promise((resolve) => setTimeout(resolve, 4));
      const slowStats = relay.stats().clients.find((client) => client.id === 'c1');
      if (slowStats) {
        expect(slowStats.queuedBytes).toBeLessThanOrEqual(roomy.maxQueuedBytes);
        // One message may overshoot the high-water mark (here a 256 KiB frame).
        expect(slowStats.inflightBytes).toBeLessThanOrEqual(roomy.highWaterMark + 256 * 1024 + 1_024);
      }
    }
    const total = rounds * perRound;
    for (const client of fast) {
      await waitFor(() => dataOf(client.messages, 'events').length === total || undefined, 'every message at the fast clients', 60_000);
      expect(client.messages.some((message) => message.type === 'gap')).toBe(false);
    }
    const slowStats = relay.stats().clients.find((client) => client.id === 'c1')!;
    expect(slowStats.droppedMessages).toBeGreaterThan(0);
    // The fast clients got the last image; the stalled one skipped intermediate ones.
    for (const client of fast) {
      await waitFor(() => client.binary.length > 0 && decodeFrame(client.binary.at(-1)!).seq === rounds - 1 || undefined, 'the last frame');
    }
    expect(slowStats.skippedLatest).toBeGreaterThan(0);
  }, 120_000);

  it('drops a peer that stops answering pings', async () => {
    const { relay, url } = await startRelay({ topics, heartbeatMs: 500 });
    const slow = spawnStallableClient(url, ['events']);
    await waitFor(() => slow.lines.some((line) => (line as { type: string }).type === 'ack') || undefined, 'the client to subscribe');
    const alive = record(url);
    await alive.next('hello');
    slow.stop();
    await waitFor(() => relay.stats().connections === 1 || undefined, 'the dead peer to be dropped');
    // The reading client answered its pings and stays.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(relay.stats().connections).toBe(1);
  });
});

describe('security', () => {
  it('refuses a foreign Origin with 4003 before sending anything', async () => {
    const { url, port } = await startRelay({ topics });
    const hijack = record(url, { headers: { origin: 'https://evil.example' } });
    expect(await hijack.closed).toEqual({ code: CloseCode.FORBIDDEN_ORIGIN, reason: 'FORBIDDEN_ORIGIN' });
    expect(hijack.messages).toEqual([]);
    const samePage = record(url, { headers: { origin: `http://127.0.0.1:${port}` } });
    await samePage.next('hello');
  });

  it('refuses a DNS-rebinding page whose Origin matches its own Host', async () => {
    const { url, port } = await startRelay({ topics });
    const rebound = record(url, { headers: { origin: `http://attacker.example:${port}`, host: `attacker.example:${port}` } });
    expect((await rebound.closed).code).toBe(CloseCode.FORBIDDEN_ORIGIN);
    const local = record(url, { headers: { origin: `http://localhost:${port}`, host: `localhost:${port}` } });
    await local.next('hello');
  });

  it('accepts listed origins only when allowedOrigins is a list', async () => {
    const { url, port } = await startRelay({ topics, allowedOrigins: ['http://viewer.localhost:5173'] });
    const listed = record(url, { headers: { origin: 'http://viewer.localhost:5173' } });
    await listed.next('hello');
    const same = record(url, { headers: { origin: `http://127.0.0.1:${port}` } });
    expect((await same.closed).code).toBe(CloseCode.FORBIDDEN_ORIGIN);
    const strict = await startRelay({ topics, requireOrigin: true });
    const noOrigin = record(strict.url);
    expect((await noOrigin.closed).code).toBe(CloseCode.FORBIDDEN_ORIGIN);
  });

  it('requires the token when one is set, by subprotocol or query, and never echoes it', async () => {
    const token = generateToken();
    const { url } = await startRelay({ topics, token });
    const none = record(url);
    expect(await none.closed).toEqual({ code: CloseCode.UNAUTHORIZED, reason: 'UNAUTHORIZED' });
    const wrong = record(url, { protocols: ['webmon.v1', `webmon.token.${generateToken()}`] });
    expect((await wrong.closed).code).toBe(CloseCode.UNAUTHORIZED);
    const byProtocol = record(url, { protocols: ['webmon.v1', `webmon.token.${token}`] });
    await byProtocol.next('hello');
    expect(byProtocol.socket.protocol).toBe('webmon.v1');
    const byQuery = record(`${url}?token=${token}`);
    await byQuery.next('hello');
  });

  it('refuses to bind a non-loopback address without a token', async () => {
    const relay = createRelay({ topics, host: '0.0.0.0' });
    relays.push(relay);
    await expect(relay.listen()).rejects.toMatchObject({ code: RelayErrorCode.TOKEN_REQUIRED });
    expect(relay.address()).toBeUndefined();

    const app = createServer();
    await new Promise<void>((resolve) => app.listen(0, '0.0.0.0', resolve));
    try {
      expect(() => createRelay({ server: app, topics })).toThrow(expect.objectContaining({ code: RelayErrorCode.TOKEN_REQUIRED }));
      const guarded = createRelay({ server: app, topics, token: generateToken(), heartbeatMs: 0 });
      relays.push(guarded);
    } finally {
      app.closeAllConnections();
      await new Promise((resolve) => app.close(resolve));
    }
    expect(() => createRelay({ topics, token: 'short' })).toThrow(expect.objectContaining({ code: RelayErrorCode.INVALID_OPTIONS }));
    // Any origin may only be allowed behind a token.
    expect(() => createRelay({ topics, allowedOrigins: '*' })).toThrow(expect.objectContaining({ code: RelayErrorCode.INVALID_OPTIONS }));
    const token = generateToken();
    const open = await startRelay({ topics, allowedOrigins: '*', token });
    const anyOrigin = record(`${open.url}?token=${token}`, { headers: { origin: 'https://elsewhere.example' } });
    await anyOrigin.next('hello');
  });

  it('answers an upgrade whose target is `//…` with 404 and keeps serving (resolved against a base, `//` threw in the upgrade listener and ended the process; `//x/ws` was taken for /ws)', async () => {
    const { url, port } = await startRelay({ topics });
    const path = new URL(url).pathname;
    const upgrade = (target: string) =>
      new Promise<string>((resolve) => {
        const socket = connect(port, '127.0.0.1', () =>
          socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`),
        );
        let answer = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (answer += chunk));
        socket.on('error', () => undefined);
        socket.on('close', () => resolve(answer.split('\r\n')[0] ?? ''));
        setTimeout(() => socket.destroy(), 2_000);
      });
    for (const target of ['//', `/${path}`, `//x${path}`, `//x${path}?token=t`]) expect(await upgrade(target)).toBe('HTTP/1.1 404 Not Found');
    await record(url).next('hello');
    // The parsing on its own: the path as sent, never a host; anything not a path is no target.
    expect(requestTarget('//x/ws?token=t')?.pathname).toBe('//x/ws');
    expect(requestTarget('/ws?token=t')?.searchParams.get('token')).toBe('t');
    expect(requestTarget(undefined)?.pathname).toBe('/');
    for (const target of ['*', 'http://127.0.0.1/ws', '', 'ws']) expect(requestTarget(target)).toBeUndefined();
  });
});

describe('malformed input', () => {
  it('answers invalid JSON and schema failures with an error and keeps the connection', async () => {
    const { url } = await startRelay({ topics });
    const client = record(url);
    await client.next('hello');
    client.send('{not json');
    expect(await client.next('error')).toMatchObject({ code: 'BAD_JSON' });
    client.send({ type: 'subscribe', id: 'r1', topics: 'demo.state' });
    expect(await client.next('error', 0, (message) => message.code === 'BAD_MESSAGE')).toMatchObject({ id: 'r1' });
    client.send({ type: 'launch', id: 'r2' });
    await client.next('error', 0, (message) => message.id === 'r2');
    client.socket.send(Buffer.from([1, 2, 3]));
    await client.next('error', 0, (message) => message.code === 'UNEXPECTED_BINARY');
    client.send({ type: 'ping', id: 'still-there', time: 1 });
    expect(await client.next('pong')).toMatchObject({ id: 'still-there', clientTime: 1 });
    expect(client.socket.readyState).toBe(client.socket.OPEN);
  });

  it('closes a client that keeps sending garbage with 4008', async () => {
    const { relay, url } = await startRelay({ topics });
    const client = record(url);
    await client.next('hello');
    for (let index = 0; index < 50; index += 1) client.send('garbage');
    expect(await client.closed).toMatchObject({ code: CloseCode.PROTOCOL_ABUSE, reason: 'BAD_JSON' });
    await waitFor(() => relay.stats().connections === 0 || undefined, 'the connection to be gone');
  });

  it('answers a flood with RATE_LIMITED and closes a client that keeps it up', async () => {
    const { url } = await startRelay({ topics, messageRate: { perSecond: 1, burst: 5 } });
    const client = record(url);
    await client.next('hello');
    for (let index = 0; index < 8; index += 1) client.send({ type: 'ping', id: `p${index}`, time: index });
    await client.next('error', 0, (message) => message.code === 'RATE_LIMITED');
    expect(client.messages.filter((message) => message.type === 'pong')).toHaveLength(5);
    for (let index = 0; index < 40; index += 1) client.send({ type: 'ping', id: `q${index}`, time: index });
    expect(await client.closed).toMatchObject({ code: CloseCode.PROTOCOL_ABUSE, reason: 'RATE_LIMITED' });
  });

  it('closes with 1009 on a message above maxPayload', async () => {
    const { url } = await startRelay({ topics, maxPayload: 1_024 });
    const client = record(url);
    await client.next('hello');
    client.send({ type: 'ping', id: 'big', time: 1, pad: 'x'.repeat(4_096) });
    expect((await client.closed).code).toBe(CloseCode.MESSAGE_TOO_BIG);
  });

  it('rejects bad publishes locally with typed errors', async () => {
    const { relay } = await startRelay({ topics });
    expect(() => relay.publish('nope', 1)).toThrow(expect.objectContaining({ code: RelayErrorCode.UNKNOWN_TOPIC }));
    expect(() => relay.publish('image', 1)).toThrow(expect.objectContaining({ code: RelayErrorCode.WRONG_TOPIC_KIND }));
    expect(() => relay.publishFrame('events', { dtype: 'uint8', shape: [1] }, new Uint8Array(1))).toThrow(expect.objectContaining({ code: RelayErrorCode.WRONG_TOPIC_KIND }));
    expect(() => relay.publish('events', { big: 1n })).toThrow(expect.objectContaining({ code: RelayErrorCode.BAD_PAYLOAD }));
    expect(() => relay.publish('events', undefined)).toThrow(expect.objectContaining({ code: RelayErrorCode.BAD_PAYLOAD }));
    expect(() => relay.publishFrame('image', { dtype: 'float32', shape: [3] }, new Uint8Array(4))).toThrow(expect.objectContaining({ code: RelayErrorCode.BAD_PAYLOAD }));
  });
});

describe('commands', () => {
  it('acks, validates known commands, maps handler errors, limits the rate', async () => {
    // Command checks are injected (the relay itself knows no source's commands).
    const validateCommand = (name: string, args: unknown) => {
      if (name === 'set_flag' && typeof args !== 'boolean') throw new TypeError('set_flag takes a boolean');
    };
    const { relay, url } = await startRelay({ topics, commandRate: { perSecond: 1, burst: 8 }, commandTimeoutMs: 300, validateCommand });
    const client = record(url);
    await client.next('hello');
    const ask = async (id: string, name: string, args: unknown) => {
      client.send({ type: 'command', id, name, args });
      return waitFor(() => client.messages.find((message) => (message.type === 'ack' || message.type === 'error') && message.id === id), `the answer to ${id}`);
    };
    await expect(ask('1', 'set_flag', true)).resolves.toMatchObject({ type: 'error', code: 'NO_PUBLISHER' });
    const seen: unknown[] = [];
    relay.onCommand(async (name, args, info) => {
      seen.push({ name, args, id: info.id });
      if (name === 'fail') throw new Error('the source said no');
      if (name === 'offline') throw new RelayCommandError('NO_PUBLISHER', 'the source is not connected');
      if (name === 'hang') return new Promise(() => undefined);
      return { applied: name };
    });
    await expect(ask('2', 'set_flag', true)).resolves.toEqual({ type: 'ack', id: '2', result: { applied: 'set_flag' } });
    await expect(ask('3', 'set_flag', 'yes')).resolves.toMatchObject({ type: 'error', code: 'BAD_COMMAND_ARGS' });
    await expect(ask('4', 'fail', null)).resolves.toMatchObject({ type: 'error', code: 'COMMAND_FAILED', message: 'the source said no' });
    await expect(ask('5', 'offline', null)).resolves.toMatchObject({ type: 'error', code: 'NO_PUBLISHER' });
    await expect(ask('6', 'hang', null)).resolves.toMatchObject({ type: 'error', code: 'TIMEOUT' });
    await expect(ask('7', 'future_command', { any: [1, 2] })).resolves.toMatchObject({ type: 'ack', result: { applied: 'future_command' } });
    expect(seen).toEqual([
      { name: 'set_flag', args: true, id: 'c1' },
      { name: 'fail', args: null, id: 'c1' },
      { name: 'offline', args: null, id: 'c1' },
      { name: 'hang', args: null, id: 'c1' },
      { name: 'future_command', args: { any: [1, 2] }, id: 'c1' },
    ]);
    // The bucket (burst 8) is nearly spent: a burst of commands is cut off.
    const answers = await Promise.all(['a', 'b', 'c', 'd'].map((id) => ask(id, 'set_flag', false)));
    expect(answers.some((answer) => answer.type === 'error' && answer.code === 'RATE_LIMITED')).toBe(true);
  });

  it('passes only allowed command names', async () => {
    const { relay, url } = await startRelay({ topics, allowedCommands: ['set_flag'] });
    relay.onCommand(() => 'ok');
    const client = record(url);
    await client.next('hello');
    client.send({ type: 'command', id: 'x', name: 'quit', args: null });
    expect(await client.next('error')).toMatchObject({ id: 'x', code: 'UNKNOWN_COMMAND' });
    client.send({ type: 'command', id: 'y', name: 'set_flag', args: true });
    expect(await client.next('ack')).toEqual({ type: 'ack', id: 'y', result: 'ok' });
  });
});

describe('topics declared and retired while running', () => {
  it('announces a new topic to connected pages, which can subscribe at once without reconnecting', async () => {
    const { relay, url } = await startRelay({ topics: [] });
    const client = record(url);
    expect((await client.next('hello')).topics).toEqual([]);
    relay.declareTopic({ name: 'late.key', mode: 'latest' });
    const announced = await client.next('topics');
    expect(announced).toMatchObject({ added: [{ name: 'late.key', mode: 'latest', schema: 'webmon.v1/json' }], removed: [] });
    relay.publish('late.key', { count: 1 });
    client.send({ type: 'subscribe', id: 's', topics: ['late.key'] });
    expect(await client.next('snapshot')).toMatchObject({ topic: 'late.key', items: [{ seq: 0, payload: { count: 1 } }] });
    relay.publish('late.key', { count: 2 });
    expect(await client.next('data')).toMatchObject({ topic: 'late.key', seq: 1, payload: { count: 2 } });
    expect(relay.topics.map((topic) => topic.name)).toEqual(['late.key']);
    // A page that connects later gets it in hello.
    const later = record(url);
    expect((await later.next('hello')).topics.map((topic) => topic.name)).toEqual(['late.key']);
  });

  it('ignores the same declaration twice and refuses a conflicting one', async () => {
    const { relay, url } = await startRelay({ topics: [] });
    const client = record(url);
    await client.next('hello');
    relay.declareTopic({ name: 'k', mode: 'stream', replayMs: 1_000 });
    relay.declareTopic({ name: 'k', mode: 'stream', replayMs: 1_000 });
    expect(() => relay.declareTopic({ name: 'k', mode: 'latest' })).toThrow(expect.objectContaining({ code: RelayErrorCode.TOPIC_CONFLICT }));
    expect(() => relay.declareTopic({ name: 'bad name', mode: 'latest' })).toThrow(expect.objectContaining({ code: RelayErrorCode.INVALID_OPTIONS }));
    await client.next('topics');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(client.messages.filter((message) => message.type === 'topics')).toHaveLength(1);
  });

  it('retires a topic: pages are told, delivery stops, publishing to it throws, and it can come back', async () => {
    const { relay, url } = await startRelay({ topics: [{ name: 'gone.soon', mode: 'latest' }] });
    const client = record(url);
    await client.next('hello');
    client.send({ type: 'subscribe', id: 's', topics: ['gone.soon'] });
    await client.next('ack');
    expect(relay.retireTopic('gone.soon')).toBe(true);
    expect(relay.retireTopic('gone.soon')).toBe(false);
    expect(await client.next('topics')).toMatchObject({ added: [], removed: ['gone.soon'] });
    expect(() => relay.publish('gone.soon', 1)).toThrow(expect.objectContaining({ code: RelayErrorCode.UNKNOWN_TOPIC }));
    relay.declareTopic({ name: 'gone.soon', mode: 'latest' });
    relay.publish('gone.soon', 2);
    await client.next('topics', 0, (message) => message.added.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // The old subscription ended with the retirement: nothing arrives until the page subscribes again.
    expect(dataOf(client.messages, 'gone.soon')).toEqual([]);
  });

  it('checks payloads with the topic\'s injected validator', async () => {
    const { relay } = await startRelay({ topics: [] });
    relay.declareTopic({ name: 'checked', mode: 'latest', validate: (payload) => {
      if (typeof payload !== 'number') throw new TypeError('a number, please');
      return payload;
    } });
    expect(relay.publish('checked', 1)).toBe(0);
    expect(() => relay.publish('checked', 'one')).toThrow(expect.objectContaining({ code: RelayErrorCode.BAD_PAYLOAD, message: expect.stringContaining('a number, please') }));
  });
});

describe('command routing', () => {
  it('hands the addressed topic to the handler and refuses undeclared topics and non-public names', async () => {
    const { relay, url } = await startRelay({ topics: [{ name: 'a.state', mode: 'latest' }, { name: 'b.state', mode: 'latest' }] });
    const seen: unknown[] = [];
    relay.onCommand((name, _args, context) => {
      seen.push({ name, topic: context.topic });
      return context.topic ?? 'none';
    });
    const client = record(url);
    await client.next('hello');
    const ask = async (message: Record<string, unknown>) => {
      client.send({ type: 'command', args: null, ...message });
      return waitFor(() => client.messages.find((reply) => (reply.type === 'ack' || reply.type === 'error') && reply.id === message['id']), `the answer to ${String(message['id'])}`);
    };
    await expect(ask({ id: '1', name: 'go', topic: 'b.state' })).resolves.toEqual({ type: 'ack', id: '1', result: 'b.state' });
    await expect(ask({ id: '2', name: 'go' })).resolves.toEqual({ type: 'ack', id: '2', result: 'none' });
    await expect(ask({ id: '3', name: 'go', topic: 'c.state' })).resolves.toMatchObject({ type: 'error', code: 'UNKNOWN_TOPIC' });
    await expect(ask({ id: '4', name: '__init__' })).resolves.toMatchObject({ type: 'error', code: 'BAD_MESSAGE' });
    await expect(ask({ id: '5', name: '_private' })).resolves.toMatchObject({ type: 'error', code: 'BAD_MESSAGE' });
    expect(seen).toEqual([{ name: 'go', topic: 'b.state' }, { name: 'go', topic: undefined }]);
  });

  it('answers UNKNOWN_COMMAND when the injected validator says so', async () => {
    const validateCommand = (name: string) => {
      if (name !== 'known') throw new RelayCommandError('UNKNOWN_COMMAND', `no command ${name} here`);
    };
    const { relay, url } = await startRelay({ topics: [], validateCommand });
    relay.onCommand(() => 'ran');
    const client = record(url);
    await client.next('hello');
    client.send({ type: 'command', id: 'x', name: 'other', args: 1 });
    expect(await client.next('error')).toMatchObject({ id: 'x', code: 'UNKNOWN_COMMAND', message: 'no command other here' });
    client.send({ type: 'command', id: 'y', name: 'known', args: 1 });
    expect(await client.next('ack')).toEqual({ type: 'ack', id: 'y', result: 'ran' });
  });
});

describe('binary frames', () => {
  it('sends a 4 MiB array as one binary message that decodes to the same values', async () => {
    const { relay, url } = await startRelay({ topics });
    const client = record(url);
    await client.next('hello');
    client.send({ type: 'subscribe', id: 's', topics: ['image'] });
    await client.next('ack');
    const values = new Float32Array(2 ** 20);
    for (let index = 0; index < values.length; index += 1) values[index] = index * 0.5;
    relay.publishFrame('image', { dtype: 'float32', shape: [1024, 1024], meta: { contrast: [0, 1] } }, values);
    await waitFor(() => client.binary.length === 1 || undefined, 'the frame');
    expect(client.binary[0]!.length).toBeGreaterThan(values.byteLength);
    const frame = decodeFrame(client.binary[0]!);
    expect(frame).toMatchObject({ topic: 'image', seq: 0, dtype: 'float32', shape: [1024, 1024], meta: { contrast: [0, 1] } });
    expect(frame.data).toBeInstanceOf(Float32Array);
    const bytes = (array: ArrayBufferView) => Buffer.from(array.buffer, array.byteOffset, array.byteLength);
    expect(bytes(frame.data).equals(bytes(values))).toBe(true);
    expect(client.messages.filter((message) => message.type === 'data')).toEqual([]);
  });

  it('gives a late joiner the latest frame and the replay window of a binary stream', async () => {
    const { relay, url } = await startRelay({ topics });
    for (let index = 0; index < 3; index += 1) {
      relay.publishFrame('image', { dtype: 'uint16', shape: [2] }, Uint16Array.of(index, index));
      relay.publishFrame('image-stream', { dtype: 'int32', shape: [1] }, Int32Array.of(index));
    }
    const client = record(url);
    await client.next('hello');
    client.send({ type: 'subscribe', topics: ['image', 'image-stream'] });
    expect(await client.next('snapshot', 0, (message) => message.topic === 'image')).toMatchObject({ items: [], binaryFrames: 1 });
    expect(await client.next('snapshot', 0, (message) => message.topic === 'image-stream')).toMatchObject({ binaryFrames: 3 });
    await waitFor(() => client.binary.length === 4 || undefined, 'four frames');
    const frames = client.binary.map((bytes) => decodeFrame(bytes));
    expect(frames.map((frame) => [frame.topic, frame.seq])).toEqual([['image', 2], ['image-stream', 0], ['image-stream', 1], ['image-stream', 2]]);
    expect([...(frames[0]!.data as Uint16Array)]).toEqual([2, 2]);
  });
});
