/** The browser client, run on `ws` in Node against the real relay. */
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { SUBPROTOCOL, encodeFrame, type GapMessage, type JsonValue, type StatusMessage } from '@webmon/protocol';

/** Payload types of the test topics, as a source package would export them. */
interface State {
  layers: Record<string, unknown>;
}
interface Tick {
  time: number;
  delta_ms: number;
}
interface DemoPayloads {
  'demo.state': State;
  'demo.ticks': Tick;
}

/** An injected payload check, as a source package provides them (here: a tick must have numbers). */
const payloadValidators = {
  'demo/tick': (payload: unknown) => {
    const tick = payload as Partial<Tick> | null;
    if (typeof tick?.time !== 'number' || typeof tick.delta_ms !== 'number') throw new TypeError('a tick needs numeric time and delta_ms');
    return payload;
  },
};
import { createRelayClient, type RelayClient, type RelayClientOptions, type SessionChange, type TopicEvent, type WebSocketConstructor } from '../src/client.js';
import { RelayCommandError, createRelay, generateToken } from '../src/index.js';
import { children, cleanup, relays, startRelay, waitFor } from './helpers.js';

const clients: RelayClient<unknown>[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await cleanup();
});

const topics = [
  { name: 'demo.state', mode: 'latest' as const, schema: 'demo/state' },
  { name: 'demo.ticks', mode: 'stream' as const, schema: 'demo/tick', replayMs: 10_000 },
  { name: 'events', mode: 'stream' as const },
  { name: 'image', mode: 'latest' as const, binary: true },
];

function connect<Map = import('../src/client.js').TopicPayloadMap>(options: Omit<RelayClientOptions, 'WebSocket'>): RelayClient<Map> {
  const client = createRelayClient<Map>({ WebSocket: WebSocket as unknown as WebSocketConstructor, backoff: { initialMs: 50, maxMs: 500 }, ...options });
  clients.push(client as RelayClient<unknown>);
  return client;
}

describe('relay client', () => {
  it('refuses options it cannot use, with RELAY_CLIENT_INVALID_OPTIONS', () => {
    const url = 'ws://127.0.0.1:9/ws';
    const bad: [Partial<RelayClientOptions>, string][] = [
      [{ window: 17 }, 'window must be an integer from 0 to 16, got 17'],
      [{ window: 1.5 }, 'window must be an integer from 0 to 16, got 1.5'],
      [{ commandTimeoutMs: 0 }, 'commandTimeoutMs must be a number of milliseconds > 0, got 0'],
      [{ maxFrameBytes: -1 }, 'maxFrameBytes must be a whole number of bytes > 0, got -1'],
      [{ bulkIdleMs: Number.NaN }, 'bulkIdleMs must be a number of milliseconds ≥ 0, got NaN'],
      // A backoff of 0 ms, or one that does not grow, would reconnect in a tight loop against a refusing server.
      [{ backoff: { initialMs: 0 } }, 'backoff.initialMs must be a number of milliseconds > 0, got 0'],
      [{ backoff: { factor: 0.5 } }, 'backoff.factor must be a number ≥ 1, got 0.5'],
      [{ backoff: { initialMs: 500, maxMs: 100 } }, 'backoff.maxMs must be a number of milliseconds ≥ backoff.initialMs (250 by default), got 100'],
      [{ backoff: { jitter: 2 } }, 'backoff.jitter must be a number from 0 to 1, got 2'],
      [{ backoff: { initialMs: '50' as unknown as number } }, 'backoff.initialMs must be a number of milliseconds > 0, got 50'],
    ];
    for (const [options, message] of bad) {
      expect(() => connect({ url, ...options }), JSON.stringify(options)).toThrow(expect.objectContaining({ code: 'RELAY_CLIENT_INVALID_OPTIONS', message }));
    }
    // The edges pass (the client is closed at once, still connecting: see the next test).
    connect({ url, window: 0, bulkIdleMs: 0, backoff: { initialMs: 1, maxMs: 1, factor: 1, jitter: 0 } }).close();
  });

  it('closes while still connecting without throwing out of the event loop (ws reports the aborted handshake as an error)', async () => {
    // A server that takes the TCP connection and never answers the upgrade: the client stays connecting.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const script = fileURLToPath(new URL('./fixtures/close-while-connecting.ts', import.meta.url));
      const child = spawn(process.execPath, ['--import', 'tsx', script, `ws://127.0.0.1:${(silent.address() as AddressInfo).port}/ws`], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
      child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect({ code, stdout: stdout.trim(), stderr }).toEqual({ code: 0, stdout: 'closed closed', stderr: '' });
    } finally {
      silent.close();
    }
  });

  it('subscribes with typed payloads, gets the snapshot, then live data', async () => {
    const { relay, url } = await startRelay({ topics });
    relay.publish('demo.state', { layers: { '1': {} } });
    relay.publish('demo.ticks', { time: 1, delta_ms: 16 });
    const client = connect<DemoPayloads>({ url });
    const layers: TopicEvent<State>[] = [];
    const frameTimes: TopicEvent<Tick>[] = [];
    client.subscribe('demo.state', (event) => {
      expectTypeOf(event).toEqualTypeOf<TopicEvent<State>>();
      layers.push(event);
    });
    client.subscribe('demo.ticks', (event) => frameTimes.push(event));
    client.subscribe('events', (event) => expectTypeOf(event).toEqualTypeOf<TopicEvent<JsonValue>>());
    await waitFor(() => layers.length === 1 && frameTimes.length === 1 || undefined, 'the snapshots');
    expect(layers[0]).toMatchObject({ kind: 'data', replay: true, seq: 0, payload: { layers: { '1': {} } } });
    expect(client.state).toBe('open');
    expect(client.sessionId).toBe(relay.sessionId);
    expect(client.topics.map((topic) => topic.name)).toEqual(topics.map((topic) => topic.name));
    relay.publish('demo.ticks', { time: 2, delta_ms: 17 });
    await waitFor(() => frameTimes.length === 2 || undefined, 'live data');
    expect(frameTimes[1]).toMatchObject({ kind: 'data', replay: false, seq: 1, payload: { time: 2, delta_ms: 17 } });
  });

  it('drops a payload that fails its topic schema and reports it', async () => {
    const { relay, url } = await startRelay({ topics });
    const client = connect({ url, payloadValidators });
    const errors: string[] = [];
    client.onError((error) => errors.push(error.code));
    const frameTimes: unknown[] = [];
    client.subscribe('demo.ticks', (event) => frameTimes.push(event));
    await waitFor(() => client.state === 'open' || undefined, 'open');
    await client.ping();
    relay.publish('demo.ticks', { time: 'soon' });
    relay.publish('demo.ticks', { time: 3, delta_ms: 1 });
    await waitFor(() => frameTimes.length === 1 || undefined, 'the valid value');
    expect(errors).toEqual(['RELAY_CLIENT_BAD_SERVER_MESSAGE']);
  });

  it('subscribes to a topic as soon as the server announces it, and keeps its topic list current', async () => {
    const { relay, url } = await startRelay({ topics: [] });
    const client = connect({ url });
    const changes: { added: string[]; removed: readonly string[] }[] = [];
    client.onTopics((change) => changes.push({ added: change.added.map((topic) => topic.name), removed: change.removed }));
    const values: unknown[] = [];
    client.subscribe('plugin.data.count', (event) => values.push(event.kind === 'data' ? event.payload : undefined));
    const errors: string[] = [];
    client.onError((error) => errors.push(error.code));
    await waitFor(() => client.state === 'open' || undefined, 'open');
    relay.declareTopic({ name: 'plugin.data.count', mode: 'latest' });
    relay.publish('plugin.data.count', 41);
    await waitFor(() => values.length === 1 || undefined, 'the first value of the new topic');
    relay.publish('plugin.data.count', 42);
    await waitFor(() => values.length === 2 || undefined, 'a live value');
    expect(values).toEqual([41, 42]);
    expect(client.topics.map((topic) => topic.name)).toEqual(['plugin.data.count']);
    relay.retireTopic('plugin.data.count');
    await waitFor(() => client.topics.length === 0 || undefined, 'the retirement');
    expect(changes).toEqual([
      { added: [], removed: [] },
      { added: ['plugin.data.count'], removed: [] },
      { added: [], removed: ['plugin.data.count'] },
    ]);
    // Never subscribed before the topic existed: no UNKNOWN_TOPIC noise.
    expect(errors).toEqual([]);
  });

  it('sends the addressed topic with a command', async () => {
    const { relay, url } = await startRelay({ topics: [{ name: 'b.state', mode: 'latest' }] });
    relay.onCommand((_name, _args, context) => context.topic ?? null);
    const client = connect({ url });
    await waitFor(() => client.state === 'open' || undefined, 'open');
    await expect(client.command('go', null, { topic: 'b.state' })).resolves.toBe('b.state');
    await expect(client.command('go', null)).resolves.toBeNull();
  });

  it('returns command results and rejects with typed errors', async () => {
    const validateCommand = (name: string, args: JsonValue) => {
      if (name === 'set_flag' && typeof args !== 'boolean') throw new TypeError('set_flag takes a boolean');
    };
    const { relay, url } = await startRelay({ topics, commandTimeoutMs: 200, validateCommand });
    const client = connect({ url });
    await waitFor(() => client.state === 'open' || undefined, 'open');
    await expect(client.command('set_flag', true)).rejects.toMatchObject({ name: 'RelayClientError', code: 'NO_PUBLISHER' });
    relay.onCommand((name, args) => {
      if (name === 'offline') throw new RelayCommandError('NO_PUBLISHER', 'the source is gone');
      if (name === 'slow') return new Promise(() => undefined);
      return { name, args };
    });
    await expect(client.command('set_flag', true)).resolves.toEqual({ name: 'set_flag', args: true });
    await expect(client.command('set_flag', 'no')).rejects.toMatchObject({ code: 'BAD_COMMAND_ARGS' });
    await expect(client.command('offline', null)).rejects.toMatchObject({ code: 'NO_PUBLISHER', message: 'the source is gone' });
    await expect(client.command('slow', null)).rejects.toMatchObject({ code: 'TIMEOUT' });
    await expect(client.command('slow', null, { timeoutMs: 50 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(await client.ping()).toBeGreaterThanOrEqual(0);
  });

  it('reconnects across a server restart, reports the new session and resubscribes', async () => {
    const first = await startRelay({ topics });
    first.relay.publish('demo.state', { layers: { old: {} } });
    const client = connect<DemoPayloads>({ url: first.url });
    const layers: TopicEvent<State>[] = [];
    const sessions: SessionChange[] = [];
    const states: string[] = [];
    const statuses: StatusMessage[] = [];
    client.subscribe('demo.state', (event) => layers.push(event));
    client.onSessionChange((change) => sessions.push(change));
    client.onStateChange((state) => states.push(state));
    client.onStatus((status) => statuses.push(status));
    await waitFor(() => layers.length === 1 || undefined, 'the first session snapshot');
    const pending = client.command('set_flag', true, { timeoutMs: 30_000 });
    first.relay.onCommand(() => new Promise(() => undefined));
    const disconnected = expect(pending).rejects.toMatchObject({ code: 'RELAY_CLIENT_DISCONNECTED' });
    await first.relay.close();
    await disconnected;
    expect(statuses.map((status) => status.code)).toContain('server.closing');

    const second = createRelay({ topics, port: first.port, heartbeatMs: 0 });
    relays.push(second);
    second.publish('demo.state', { layers: { new: {} } });
    await second.listen();
    await waitFor(() => sessions.length === 1 || undefined, 'the session change', 30_000);
    expect(sessions[0]).toEqual({ previous: first.relay.sessionId, current: second.sessionId });
    await waitFor(() => layers.length === 2 || undefined, 'the new session snapshot');
    expect(layers[1]).toMatchObject({ replay: true, payload: { layers: { new: {} } } });
    expect(states).toEqual(['open', 'reconnecting', 'open']);
    second.publish('demo.state', { layers: { newer: {} } });
    await waitFor(() => layers.length === 3 || undefined, 'live data after the restart');
  });

  it('keeps trying while the server is down, with backoff', async () => {
    const { relay, url, port } = await startRelay({ topics });
    const client = connect({ url });
    await waitFor(() => client.state === 'open' || undefined, 'open');
    await relay.close();
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // several refused attempts
    expect(client.state).toBe('reconnecting');
    const again = createRelay({ topics, port, heartbeatMs: 0 });
    relays.push(again);
    await again.listen();
    await waitFor(() => client.sessionId === again.sessionId || undefined, 'the reconnect', 30_000);
  });

  it('stops for good when rejected (token) and says why', async () => {
    const token = generateToken();
    const { url } = await startRelay({ topics, token });
    const rejected = connect({ url });
    const errors: string[] = [];
    rejected.onError((error) => errors.push(`${error.code} ${error.message}`));
    await waitFor(() => rejected.state === 'closed' || undefined, 'the rejection');
    expect(errors).toEqual([expect.stringContaining('RELAY_CLIENT_REJECTED the server refused the connection: 4001 UNAUTHORIZED')]);
    const accepted = connect({ url, token });
    await waitFor(() => accepted.state === 'open' || undefined, 'the token to be accepted');
  });

  it('reports gaps and delivers binary frames decoded', async () => {
    const { relay, url } = await startRelay({ topics, highWaterMark: 32 * 1024, lowWaterMark: 8 * 1024, maxQueuedMessages: 50 });
    const client = connect({ url });
    const frames: TopicEvent<JsonValue>[] = [];
    client.subscribe('image', (event) => frames.push(event));
    relay.publishFrame('image', { dtype: 'float64', shape: [2, 2] }, Float64Array.of(1, 2, 3, 4));
    await waitFor(() => frames.length === 1 || undefined, 'the snapshot frame');
    const first = frames[0]!;
    if (first.kind !== 'frame') throw new Error('expected a frame');
    expect(first.replay).toBe(true);
    expect(first.frame.shape).toEqual([2, 2]);
    expect([...(first.frame.data as Float64Array)]).toEqual([1, 2, 3, 4]);
    relay.publishFrame('image', { dtype: 'uint8', shape: [3] }, Uint8Array.of(7, 8, 9));
    await waitFor(() => frames.length === 2 || undefined, 'a live frame');
    expect(frames[1]).toMatchObject({ kind: 'frame', replay: false, seq: 1 });

  });

  it('reports each malformed server message with where it is wrong, and goes on', async () => {
    // A server that breaks the protocol (a real socket, not the relay): the client must name the problem.
    const server = new WebSocketServer({ port: 0, handleProtocols: () => SUBPROTOCOL });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    const port = (server.address() as { port: number }).port;
    server.on('connection', (socket) => {
      const topic = { name: 'events', mode: 'stream', schema: 'webmon.v1/json' };
      socket.send(JSON.stringify({ type: 'hello', protocol: SUBPROTOCOL, version: '1.1.0', sessionId: 's1', topics: [topic], time: 1 }));
      socket.once('message', () => {
        socket.send(JSON.stringify({ type: 'data', topic: 'events', seq: -1, time: 1, payload: 1 }));
        socket.send('{"type":"data","topic":"events","seq":1,"time":1,"payload":{"xs":[1e999]}}');
        socket.send('{"type":"data"');
        socket.send(JSON.stringify({ type: 'telemetry', topic: 'events' }));
        const frame = encodeFrame({ topic: 'events', seq: 2, time: 1, dtype: 'uint8', shape: [2] }, Uint8Array.of(1, 2));
        socket.send(frame.subarray(0, frame.length - 1));
        socket.send(JSON.stringify({ type: 'data', topic: 'events', seq: 3, time: 1, payload: 'fine' }));
      });
    });
    try {
      const client = connect({ url: `ws://127.0.0.1:${port}` });
      const errors: string[] = [];
      client.onError((error) => errors.push(`${error.code} ${error.message}`));
      const values: unknown[] = [];
      client.subscribe('events', (event) => values.push(event.kind === 'data' ? event.payload : event.kind));
      await waitFor(() => values.length === 1 || undefined, 'the valid message after the bad ones');
      expect(values).toEqual(['fine']);
      expect(errors).toEqual([
        'RELAY_CLIENT_BAD_SERVER_MESSAGE invalid server message at seq: expected an integer >= 0, got -1',
        'RELAY_CLIENT_BAD_SERVER_MESSAGE invalid server message at payload.xs.0: expected a JSON value (finite numbers only), got Infinity',
        expect.stringMatching(/^RELAY_CLIENT_BAD_SERVER_MESSAGE not JSON: /),
        expect.stringMatching(/^RELAY_CLIENT_BAD_SERVER_MESSAGE invalid server message at type: expected one of "hello" \| .*, got "telemetry"$/),
        'RELAY_CLIENT_BAD_SERVER_MESSAGE binary frame: data needs 2 bytes, got 1',
      ]);
    } finally {
      for (const socket of server.clients) socket.terminate();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('tells the app about a gap after it fell behind', async () => {
    const { relay, url } = await startRelay({ topics, highWaterMark: 32 * 1024, lowWaterMark: 8 * 1024, maxQueuedMessages: 50 });
    const script = fileURLToPath(new URL('./fixtures/stallable-relay-client.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, url, 'events'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    const lines: { type: string; seq?: number; dropped?: number; fromSeq?: number; toSeq?: number }[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => lines.push(JSON.parse(line)));
    await waitFor(() => lines.some((line) => line.type === 'open') || undefined, 'the client to connect', 30_000);
    await waitFor(() => relay.stats().clients[0]?.subscriptions.includes('events') || undefined, 'the subscription');
    child.kill('SIGSTOP');
    let published = 0;
    await waitFor(() => {
      for (let index = 0; index < 200; index += 1, published += 1) relay.publish('events', { pad: 'p'.repeat(1_000) });
      return (relay.stats().clients[0]?.droppedMessages ?? 0) > 100 || undefined;
    }, 'drops', 60_000);
    child.kill('SIGCONT');
    await waitFor(() => lines.at(-1)?.seq === published - 1 || undefined, 'the newest message', 60_000);
    const gaps = lines.filter((line) => line.type === 'gap');
    const data = lines.filter((line) => line.type === 'data');
    expect(gaps.length).toBeGreaterThan(0);
    expect(data.length + gaps.reduce((sum, gap) => sum + (gap.dropped ?? 0), 0)).toBe(published);
    // Walking the lines accounts for every sequence number exactly once, in order: a gap is announced
    // right where its messages would have been.
    let expected = 0;
    for (const line of lines) {
      if (line.type === 'data') {
        expect(line.seq).toBe(expected);
        expected += 1;
      } else if (line.type === 'gap') {
        expect(line.fromSeq).toBe(expected);
        expected = (line.toSeq ?? 0) + 1;
      }
    }
    expect(expected).toBe(published);
  });
});
