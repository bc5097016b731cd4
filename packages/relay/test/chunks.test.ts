/**
 * Chunked frames (protocol 1.5) through a real relay on port 0: big frames cut into chunks for a page that
 * asked (`received`), put back together bit-exact by the relay client, small messages overtaking a big
 * frame in flight, the bulk window bounding what is sent and not confirmed, and whole frames for a client
 * that never asks (1.4 and older).
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  CHUNK_HEADER_BYTES,
  ChunkAssembler,
  ChunkDefaults,
  decodeChunkHeader,
  decodeFrame,
  isChunk,
  isFrame,
  parseServerMessage,
  type DecodedFrame,
  type ServerMessage,
} from '@webmon/protocol';
import { createRelayClient, type RelayClient, type WebSocketConstructor } from '../src/client.js';
import { cleanup, connect, settle, sleep, sockets, startRelay, subscribe, waitFor } from './helpers.js';

const clients: Pick<RelayClient, 'close'>[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await cleanup();
});

const topics = [
  { name: 'image', mode: 'latest' as const, binary: true },
  { name: 'frames', mode: 'stream' as const, binary: true },
  { name: 'frame_time', mode: 'latest' as const },
];

/** A float32 array of `count` values that differ from frame to frame (`seed`) and byte to byte. */
function noise(count: number, seed: number): Float32Array {
  const values = new Float32Array(count);
  let state = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    values[i] = (state >>> 0) / 2 ** 16 - 32768;
  }
  return values;
}

type Event = { kind: 'text'; message: ServerMessage } | { kind: 'chunk'; frame: number; offset: number; total: number; bytes: number } | { kind: 'frame'; frame: DecodedFrame };

/** A raw `ws` page that records text, chunks and whole frames in the order they arrived, and confirms chunks only when told. */
function rawPage(url: string) {
  const socket = new WebSocket(url, ['webmon.v1']);
  sockets.push(socket);
  const events: Event[] = [];
  const assembler = new ChunkAssembler();
  const assembled: DecodedFrame[] = [];
  socket.on('error', () => undefined);
  socket.on('message', (data, isBinary) => {
    const buffer = Buffer.from(data as Buffer);
    if (!isBinary) {
      events.push({ kind: 'text', message: parseServerMessage(buffer.toString('utf8')) });
    } else if (isChunk(buffer)) {
      const header = decodeChunkHeader(buffer);
      events.push({ kind: 'chunk', ...header, bytes: buffer.length - CHUNK_HEADER_BYTES });
      const whole = assembler.push(buffer);
      if (whole !== undefined) assembled.push(decodeFrame(whole));
    } else {
      expect(isFrame(buffer)).toBe(true);
      events.push({ kind: 'frame', frame: decodeFrame(buffer) });
    }
  });
  const texts = () => events.flatMap((event) => (event.kind === 'text' ? [event.message] : []));
  return {
    socket,
    events,
    assembled,
    /** Bytes received in chunks so far. */
    received: () => assembler.received,
    send: (value: unknown) => socket.send(JSON.stringify(value)),
    confirm: () => socket.send(JSON.stringify({ type: 'received', bytes: assembler.received })),
    next: (type: ServerMessage['type'], predicate: (message: ServerMessage) => boolean = () => true) =>
      waitFor(() => texts().find((message) => message.type === type && predicate(message)), `a ${type} message`),
  };
}

async function chunkingPage(url: string, subscription: Record<string, unknown>) {
  const page = rawPage(url);
  await page.next('hello');
  page.send({ type: 'received', bytes: 0 }); // asks for chunks
  page.send({ type: 'subscribe', id: 'sub', ...subscription });
  await page.next('ack', (message) => message.type === 'ack' && message.id === 'sub');
  return page;
}

const MiB = 2 ** 20;

/** The frame's data is `values`, byte for byte (one comparison, not one expectation per element). */
function sameBytes(frame: DecodedFrame, values: Float32Array): boolean {
  return Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength).equals(Buffer.from(values.buffer));
}

describe('chunked frames (1.5)', () => {
  it('sends a big frame in chunks that the relay client puts back together bit-exact, and small frames whole', async () => {
    // The window beside small messages as big as the other: chunk sizes as asked, whatever else is sent.
    const { relay, url } = await startRelay({ topics, chunkBytes: 100_000, bulkWindowBesideSmallBytes: ChunkDefaults.bulkWindowBytes });
    const client = createRelayClient({ url, WebSocket: WebSocket as unknown as WebSocketConstructor });
    clients.push(client);
    const received: DecodedFrame[] = [];
    client.subscribe('image', (event) => {
      if (event.kind === 'frame') received.push(event.frame);
    });
    await waitFor(() => relay.stats().clients[0]?.subscriptions.includes('image') || undefined, 'the subscription');
    const published = [noise(MiB / 4, 1), noise(1000, 2), noise(MiB / 4 + 3, 3)];
    for (const [index, values] of published.entries()) {
      relay.publishFrame('image', { dtype: 'float32', shape: [values.length] }, values);
      await waitFor(() => received.length === index + 1 || undefined, `frame ${index}`);
    }
    received.forEach((frame, index) => {
      expect(frame.seq).toBe(index);
      expect(sameBytes(frame, published[index]!)).toBe(true);
    });
    const stats = relay.stats().clients[0]!;
    // Two big frames (1 MiB + header, in chunks of ≤ 100 000 bytes: 11 each) and a small one sent whole.
    expect(stats).toMatchObject({ chunked: true, chunkedFrames: 2, chunks: 22, laneFrames: 0, laneBytes: 0 });
    // Every chunk confirmed (acknowledgements and receipts keep flowing: window 1 let all three through).
    await waitFor(() => relay.stats().clients[0]!.bulkInFlightBytes === 0 || undefined, 'every chunk confirmed');
  });

  it('lets a small message published after a big frame started overtake the rest of it, then keeps less bulk data ahead of the next', async () => {
    const { relay, url } = await startRelay({ topics, chunkBytes: 64 * 1024, bulkWindowBytes: 256 * 1024, bulkWindowBesideSmallBytes: 32 * 1024 });
    const page = await chunkingPage(url, { topics: ['image', 'frame_time'] });
    relay.publishFrame('image', { dtype: 'float32', shape: [MiB] }, noise(MiB, 4)); // 4 MiB: 64 chunks
    await waitFor(() => page.events.some((event) => event.kind === 'chunk') || undefined, 'the first chunk');
    relay.publish('frame_time', { ms: 1 });
    // Confirming as it goes (a page reading), the frame completes — after the small message.
    while (page.assembled.length === 0) {
      page.confirm();
      await sleep(5);
    }
    const order = page.events.map((event) => (event.kind === 'chunk' ? `chunk${event.offset + event.bytes === event.total ? '-last' : ''}` : event.kind === 'text' ? event.message.type : 'frame'));
    const small = order.indexOf('data');
    expect(small).toBeGreaterThan(order.indexOf('chunk'));
    expect(small).toBeLessThan(order.indexOf('chunk-last'));
    // At most the window's worth of chunks (4 of 64 KiB) came between the first chunk and the small message.
    expect(order.slice(0, small).filter((kind) => kind.startsWith('chunk')).length).toBeLessThanOrEqual(4);
    // After it, while small messages flow, the window is 32 KiB, sent as one chunk of the whole window.
    const chunks = page.events.filter((event) => event.kind === 'chunk');
    const before = order.slice(0, small).filter((kind) => kind.startsWith('chunk')).length;
    expect(chunks.slice(0, before).every((chunk) => chunk.bytes <= 64 * 1024)).toBe(true);
    expect(chunks.slice(before + 1, -1).every((chunk) => chunk.bytes === 32 * 1024)).toBe(true);
    expect(chunks.at(-1)!.bytes).toBeLessThanOrEqual(32 * 1024);
    expect(chunks.reduce((sum, chunk) => sum + chunk.bytes, 0)).toBe(chunks[0]!.total); // 4 MiB and the frame's header
    expect(page.events.some((event) => event.kind === 'frame')).toBe(false);
    expect(sameBytes(page.assembled[0]!, noise(MiB, 4))).toBe(true);
  });

  it('keeps less bulk data in flight while small messages flow to the page, and the whole window once they stop', async () => {
    const { relay, url } = await startRelay({ topics, chunkBytes: 100_000, bulkWindowBytes: 400_000, bulkWindowBesideSmallBytes: 100_000 });
    const page = await chunkingPage(url, { topics: ['image', 'frame_time'] });
    relay.publish('frame_time', { ms: 1 });
    relay.publishFrame('image', { dtype: 'float32', shape: [MiB / 2] }, noise(MiB / 2, 5)); // 2 MiB
    await sleep(200);
    const chunks = () => page.events.flatMap((event) => (event.kind === 'chunk' ? [event] : []));
    // Beside the small message: 100 000 bytes in flight, as one chunk (each chunk costs the page a message).
    expect(chunks().map((chunk) => chunk.bytes)).toEqual([100_000]);
    // No small message for longer than ChunkDefaults.smallTrafficMs: the next chunks use the whole window.
    await sleep(ChunkDefaults.smallTrafficMs + 100);
    page.confirm();
    await waitFor(() => chunks().length === 5 || undefined, 'four more chunks');
    await sleep(100);
    expect(chunks().slice(1).map((chunk) => chunk.bytes)).toEqual([100_000, 100_000, 100_000, 100_000]);
    while (page.assembled.length === 0) {
      page.confirm();
      await sleep(5);
    }
    expect(sameBytes(page.assembled[0]!, noise(MiB / 2, 5))).toBe(true);
  });

  it('by default sends a page that takes only bulk data a 1024² float32 frame in one chunk, and small chunks once small messages flow', async () => {
    const { relay, url } = await startRelay({ topics });
    const page = await chunkingPage(url, { topics: ['image', 'frame_time'] });
    const chunks = () => page.events.flatMap((event) => (event.kind === 'chunk' ? [event] : []));
    relay.publishFrame('image', { dtype: 'float32', shape: [MiB] }, noise(MiB, 1)); // 4 MiB
    await waitFor(() => page.assembled.length === 1 || undefined, 'the first frame');
    expect(chunks()).toHaveLength(1);
    expect(chunks()[0]!.bytes).toBe(chunks()[0]!.total);
    relay.publish('frame_time', { ms: 1 });
    relay.publishFrame('image', { dtype: 'float32', shape: [MiB] }, noise(MiB, 2));
    while (page.assembled.length < 2) {
      page.confirm();
      await sleep(5);
    }
    const second = chunks().slice(1);
    expect(second.length).toBeGreaterThanOrEqual(32); // 4 MiB in chunks of the whole 128 KiB window
    expect(second.slice(0, -1).every((chunk) => chunk.bytes === ChunkDefaults.bulkWindowBesideSmallBytes)).toBe(true);
    expect(sameBytes(page.assembled[1]!, noise(MiB, 2))).toBe(true);
  });

  it('keeps what is sent in chunks and not confirmed within the bulk window, and goes on as the page confirms', async () => {
    const window = 300_000;
    const { relay, url } = await startRelay({ topics, chunkBytes: 100_000, bulkWindowBytes: window });
    const page = await chunkingPage(url, { topics: ['image', 'frames'] });
    for (let seq = 0; seq < 5; seq++) relay.publishFrame('image', { dtype: 'float32', shape: [MiB / 4] }, noise(MiB / 4, seq));
    relay.publishFrame('frames', { dtype: 'float32', shape: [MiB / 4] }, noise(MiB / 4, 9));
    await sleep(300);
    // Not confirmed: three chunks (the window), nothing more, however long we wait.
    const sent = () => page.events.filter((event) => event.kind === 'chunk').length;
    expect(sent()).toBe(3);
    expect(page.received()).toBeLessThanOrEqual(window);
    expect(relay.stats().clients[0]).toMatchObject({ bulkInFlightBytes: 300_000, laneFrames: 1 });
    // Memory: what the relay holds for this page is the lane's one frame and the stream's queued one (1 MiB
    // each), not a frame per value published: twenty more images change nothing but the waiting slot.
    const held = relay.stats().bufferedBytes;
    expect(held).toBeLessThanOrEqual(2 * (MiB + 1024));
    for (let seq = 5; seq < 25; seq++) relay.publishFrame('image', { dtype: 'float32', shape: [MiB / 4] }, noise(MiB / 4, seq));
    expect(relay.stats().bufferedBytes).toBe(held);
    expect(relay.stats().clients[0]).toMatchObject({ laneFrames: 1, queuedMessages: 2 }); // the stream's frame, the newest image
    // Confirming half lets one more chunk go, not more.
    page.send({ type: 'received', bytes: 150_000 });
    await waitFor(() => sent() === 4 || undefined, 'one more chunk');
    await sleep(50);
    expect(sent()).toBe(4);
    let most = 0;
    while (page.assembled.length < 2) {
      page.confirm();
      most = Math.max(most, relay.stats().clients[0]!.bulkInFlightBytes);
      await sleep(2);
    }
    expect(most).toBeLessThanOrEqual(window);
    expect(relay.stats().clients[0]!.bulkInFlightMaxBytes).toBeLessThanOrEqual(window);
    // The latest topic coalesced while the lane was busy: its first value, then the newest; the stream's one value.
    const bySeq = page.assembled.map((frame) => `${frame.topic}#${frame.seq}`);
    expect(bySeq.slice(0, 2)).toEqual(['image#0', 'frames#0']);
    await waitFor(() => page.assembled.length === 3 || (page.confirm(), undefined), 'the newest image');
    expect(page.assembled[2]).toMatchObject({ topic: 'image', seq: 24 });
  });

  it('drops a frame going out in chunks when the session restarts: the new hello does not wait behind it, and the next frame arrives whole', async () => {
    const { relay, url } = await startRelay({ topics, chunkBytes: 64 * 1024, bulkWindowBytes: 128 * 1024 });
    const page = await chunkingPage(url, { topics: ['image'] });
    relay.publishFrame('image', { dtype: 'float32', shape: [MiB / 4] }, noise(MiB / 4, 7)); // 1 MiB: 17 chunks
    await waitFor(() => page.events.filter((event) => event.kind === 'chunk').length === 2 || undefined, 'the window of chunks');
    relay.restartSession();
    expect(relay.stats().clients[0]).toMatchObject({ laneFrames: 0, laneBytes: 0 });
    await page.next('hello', (message) => message.type === 'hello' && message.sessionId === relay.stats().sessionId);
    page.confirm(); // what it received of the dropped frame: receipts count on across sessions
    page.send({ type: 'subscribe', id: 'again', topics: ['image'] });
    await page.next('ack', (message) => message.type === 'ack' && message.id === 'again');
    relay.publishFrame('image', { dtype: 'float32', shape: [MiB / 4] }, noise(MiB / 4, 8));
    while (page.assembled.length === 0) {
      page.confirm();
      await sleep(2);
    }
    // The first frame was never completed (dropped at the next first chunk); the new one is bit-exact.
    expect(page.assembled).toHaveLength(1);
    expect(sameBytes(page.assembled[0]!, noise(MiB / 4, 8))).toBe(true);
    expect(page.events.filter((event) => event.kind === 'text' && event.message.type === 'error')).toEqual([]);
  });

  it('sends whole frames to a client that never asks for chunks (1.4 and older), and to one that opts out', async () => {
    const { relay, url } = await startRelay({ topics, chunkBytes: 64 * 1024 });
    const old = await connect(url);
    await subscribe(old, { topics: ['image'] });
    const client = createRelayClient({ url, WebSocket: WebSocket as unknown as WebSocketConstructor, chunks: false });
    clients.push(client);
    const received: DecodedFrame[] = [];
    client.subscribe('image', (event) => {
      if (event.kind === 'frame') received.push(event.frame);
    });
    await waitFor(() => relay.stats().clients.every((stats) => stats.subscriptions.includes('image')) && relay.stats().clients.length === 2 || undefined, 'both subscribed');
    relay.publishFrame('image', { dtype: 'float32', shape: [MiB / 2] }, noise(MiB / 2, 5));
    await waitFor(() => old.binary.length === 1 && received.length === 1 || undefined, 'the frame on both');
    await settle(old);
    expect(isChunk(old.binary[0]!)).toBe(false);
    expect(sameBytes(decodeFrame(old.binary[0]!), noise(MiB / 2, 5))).toBe(true);
    expect(sameBytes(received[0]!, noise(MiB / 2, 5))).toBe(true);
    expect(relay.stats().clients.map((stats) => [stats.chunked, stats.chunkedFrames, stats.chunks])).toEqual([[false, 0, 0], [false, 0, 0]]);
  });
});
