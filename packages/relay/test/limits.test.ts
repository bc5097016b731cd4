/**
 * Resource bounds across clients, over real sockets on port 0: connection slots per remote address,
 * repeated snapshots charged to the subscriber, and the bytes held for stalled clients all together.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CloseCode } from '@webmon/protocol';
import { cleanup, record, sockets, startRelay, waitFor } from './helpers.js';

afterEach(cleanup);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('connection slots', () => {
  it('gives one remote address at most maxConnectionsPerAddress slots, leaving the rest to others', async () => {
    const { url } = await startRelay({ maxConnections: 10, maxConnectionsPerAddress: 2 });
    const first = record(url);
    const second = record(url);
    await Promise.all([first.next('hello'), second.next('hello')]);
    const third = record(url);
    expect(await third.closed).toEqual({ code: CloseCode.TOO_MANY_CONNECTIONS, reason: 'TOO_MANY_CONNECTIONS' });
    // Another address (127.0.0.2 is this machine too, but another peer) still gets in.
    const other = new WebSocket(url, ['webmon.v1'], { localAddress: '127.0.0.2' });
    sockets.push(other);
    expect(await new Promise((resolve) => {
      other.once('message', () => resolve('hello'));
      other.once('close', (code) => resolve(code));
    })).toBe('hello');
    // A slot freed is a slot again.
    first.socket.close();
    await first.closed;
    const fourth = record(url);
    await fourth.next('hello');
  });

  it('by default caps one address at 16 of the 64 slots', async () => {
    const { url } = await startRelay({});
    const clients = Array.from({ length: 17 }, () => record(url));
    const outcomes = await Promise.all(clients.map((client) => Promise.race([client.next('hello').then(() => 'open'), client.closed.then(({ code }) => code)])));
    expect(outcomes.filter((outcome) => outcome === 'open')).toHaveLength(16);
    expect(outcomes.filter((outcome) => outcome === CloseCode.TOO_MANY_CONNECTIONS)).toHaveLength(1);
  });
});

describe('snapshots', () => {
  it('charges repeated snapshots to the subscriber: a subscribe/unsubscribe loop gets RATE_LIMITED, not megabytes', async () => {
    const { relay, url } = await startRelay({ topics: [{ name: 'ticks', mode: 'stream', replayMs: 60_000 }] });
    for (let index = 0; index < 200; index += 1) relay.publish('ticks', { index, pad: 'x'.repeat(500) });
    const client = record(url);
    await client.next('hello');
    let bytesIn = 0; // what the client sends the relay
    let bytesOut = 0; // what the relay sends back
    client.socket.on('message', (data: Buffer) => {
      bytesOut += data.length;
    });
    const send = (value: unknown): void => {
      const text = JSON.stringify(value);
      bytesIn += text.length;
      client.socket.send(text);
    };
    // 50 subscribe/unsubscribe pairs a second, under the message rate limit (200/s), for 3 s.
    const until = Date.now() + 3_000;
    let round = 0;
    while (Date.now() < until) {
      send({ type: 'subscribe', topics: ['ticks'], id: `s${round}` });
      send({ type: 'unsubscribe', topics: ['ticks'] });
      round += 1;
      await sleep(20);
    }
    await sleep(200);
    const snapshotBytes = 200 * 560;
    const ratio = bytesOut / bytesIn;
    console.info(`subscribe/unsubscribe loop: ${round} rounds, ${bytesIn} B in, ${bytesOut} B out, ratio ${ratio.toFixed(1)}×, snapshot ${snapshotBytes} B`);
    expect(client.messages.some((message) => message.type === 'error' && message.code === 'RATE_LIMITED' && message.topic === 'ticks')).toBe(true);
    // The first snapshot, the burst (256 KiB) and 64 KiB a second, each overshooting by one snapshot at most.
    expect(bytesOut).toBeLessThan(snapshotBytes * 3 + 256 * 1024 + 3.5 * 64 * 1024 + round * 300);
    expect(ratio).toBeLessThan(60);
    // The connection stays usable: once the budget refills the topic is served again.
    const ack = await (async () => {
      await sleep(2_500);
      const from = client.messages.length;
      send({ type: 'subscribe', topics: ['ticks'], id: 'again' });
      return client.next('ack', from, (message) => message.id === 'again');
    })();
    expect(ack.result).toEqual({ subscribed: ['ticks'], unknown: [] });
  }, 30_000);

  it('sends the first snapshot of each topic whatever its size', async () => {
    const { relay, url } = await startRelay({ topics: [{ name: 'a', mode: 'stream', replayMs: 60_000 }, { name: 'b', mode: 'stream', replayMs: 60_000 }], snapshotRate: { perSecond: 1, burst: 1 } });
    for (let index = 0; index < 100; index += 1) {
      relay.publish('a', { pad: 'x'.repeat(1_000) });
      relay.publish('b', { pad: 'y'.repeat(1_000) });
    }
    const client = record(url);
    await client.next('hello');
    client.send({ type: 'subscribe', topics: ['a'], id: '1' });
    client.send({ type: 'subscribe', topics: ['b'], id: '2' });
    const snapshotA = await client.next('snapshot', 0, (message) => message.topic === 'a');
    const snapshotB = await client.next('snapshot', 0, (message) => message.topic === 'b');
    expect(snapshotA.items).toHaveLength(100);
    expect(snapshotB.items).toHaveLength(100);
    // The second time it is charged: 100 KB against a 1-byte bucket.
    client.send({ type: 'unsubscribe', topics: ['a'] });
    client.send({ type: 'subscribe', topics: ['a'], id: '3' });
    client.send({ type: 'unsubscribe', topics: ['a'] });
    client.send({ type: 'subscribe', topics: ['a'], id: '4' });
    const limited = await client.next('ack', 0, (message) => message.id === '4');
    expect(limited.result).toEqual({ subscribed: [], unknown: [], limited: ['a'] });
  });
});

describe('stalled clients', () => {
  it('keeps the bytes held for all stalled clients together under maxTotalBufferedBytes', async () => {
    const cap = 12 * 2 ** 20;
    const { relay, url } = await startRelay({
      topics: [{ name: 'frames', mode: 'stream', binary: true }],
      highWaterMark: 2 ** 20,
      lowWaterMark: 256 * 1024,
      maxQueuedBytes: 4 * 2 ** 20,
      maxQueuedMessages: 100_000,
      maxBufferedBytes: 8 * 2 ** 20,
      maxTotalBufferedBytes: cap,
    });
    // Six pages that subscribe and then stop reading (their sockets paused: the kernel buffers fill, then ours).
    const clients = Array.from({ length: 6 }, () => record(url));
    for (const client of clients) {
      await client.next('hello');
      client.send({ type: 'subscribe', topics: ['frames'], id: 's' });
      await client.next('ack');
      (client.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    }
    const frame = new Uint8Array(64 * 1024);
    const held = (): number => relay.stats().clients.reduce((sum, peer) => sum + peer.inflightBytes + peer.queuedBytes, 0);
    let most = 0;
    for (let round = 0; round < 200; round += 1) {
      for (let index = 0; index < 16; index += 1) relay.publishFrame('frames', { dtype: 'uint8', shape: [frame.length] }, frame);
      await sleep(5);
      most = Math.max(most, held());
    }
    console.info(`stalled clients: at most ${(most / 2 ** 20).toFixed(1)} MiB held across ${clients.length} clients (cap ${cap / 2 ** 20} MiB); ${relay.stats().connections} still connected`);
    expect(most).toBeLessThanOrEqual(cap + 2 * 64 * 1024);
    expect(relay.stats().bufferedBytes).toBeLessThanOrEqual(cap);
    // The biggest were cut off; the others stay connected.
    await waitFor(() => relay.stats().connections < clients.length || undefined, 'a stalled client to be cut off');
    expect(relay.stats().connections).toBeGreaterThan(0);
  }, 60_000);
});
