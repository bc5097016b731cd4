/**
 * `publishFrame`'s `release` (frame-hold.ts), through a real relay and real `ws` pages on port 0: a
 * producer that reuses its buffers — and scribbles over each one the moment it is handed back — never
 * shows a page a frame whose bytes are not the ones it published, whatever holds the frame on the way
 * (the topic's newest value, a page's parked value, the stream queue, the bulk lane and its chunks, a
 * socket that stopped reading, a view computed on a thread, a tap that kept it). And it gets every buffer
 * back once nothing needs it, so it allocates a handful, not one per frame.
 */
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { ChunkAssembler, decodeFrame, isChunk, type DecodedFrame } from '@webmon/protocol';
import { createRelayClient, type RelayClient, type WebSocketConstructor } from '../src/client.js';
import { cleanup, connect, sleep, startRelay, subscribe, waitFor } from './helpers.js';

const clients: RelayClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await cleanup();
});

const SIDE = 192; // 192² float32: 144 KiB, above the size sent whole (it goes through the bulk lane in chunks)

/** Buffers handed back are overwritten at once (NaN): a frame read after its release shows it. */
class ScribblingProducer {
  private readonly free: Float32Array[] = [];
  allocated = 0;
  released = 0;
  published = 0;

  publish(publishOne: (data: Float32Array, release: () => void) => number): void {
    const data = this.free.pop() ?? this.allocate();
    let handedBack = false;
    const release = (): void => {
      if (handedBack) throw new Error('released twice');
      handedBack = true;
      data.fill(Number.NaN);
      this.released += 1;
      this.free.push(data);
    };
    // Every value of the frame is its seq, so a page can tell a frame's bytes from another's (or from NaN).
    const seq = publishOne(data.fill(this.published), release);
    if (seq !== this.published) throw new Error(`seq ${seq} for frame ${this.published}`);
    this.published += 1;
  }

  private allocate(): Float32Array {
    this.allocated += 1;
    return new Float32Array(SIDE * SIDE);
  }
}

/** Frames whose values are not all their own seq (a buffer reused or scribbled on while the relay still sent it). */
function corrupted(frames: readonly DecodedFrame[]): string[] {
  const bad: string[] = [];
  for (const frame of frames) {
    const values = frame.data as Float32Array;
    const wrong = values.findIndex((value) => value !== frame.seq);
    if (wrong >= 0) bad.push(`${frame.topic} seq ${frame.seq}: value ${values[wrong]} at ${wrong}`);
  }
  return bad;
}

/** The frames a raw page received, chunks put back together. */
function assembled(messages: readonly Buffer[]): DecodedFrame[] {
  const assembler = new ChunkAssembler();
  const frames: DecodedFrame[] = [];
  for (const bytes of messages) {
    const whole = isChunk(bytes) ? assembler.push(bytes) : bytes;
    if (whole !== undefined) frames.push(decodeFrame(whole));
  }
  return frames;
}

describe("publishFrame's release: buffers handed back only when nothing reads them", () => {
  it('keeps every frame intact through acknowledging, slow, stalled, chunked and view pages, a stream queue and a tap, and hands every buffer back', async () => {
    const { relay, url } = await startRelay({
      topics: [
        { name: 'image', mode: 'latest', binary: true },
        { name: 'frames', mode: 'stream', binary: true },
      ],
      chunkBytes: 32 * 1024,
      bulkWindowBytes: 64 * 1024,
      highWaterMark: 256 * 1024,
      lowWaterMark: 64 * 1024,
    });
    const producer = new ScribblingProducer();
    const streamProducer = new ScribblingProducer();

    // A tap that keeps each frame a while before reading it (as the file recorder does, one turn).
    const tapped: DecodedFrame[] = [];
    const tapWrong: string[] = [];
    relay.tap({
      frame: (info, header, _headerBytes, data, keep) => {
        const done = keep();
        setTimeout(() => {
          const values = new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4);
          if (values.some((value) => value !== header.seq)) tapWrong.push(`${info.name} seq ${header.seq}`);
          tapped.push({ topic: info.name, seq: header.seq } as DecodedFrame);
          done();
        }, 3);
      },
    });

    // Pages: one acknowledging at once (chunks, window 1); one that takes 20 ms per frame; one with a view
    // computed on a thread; all through the relay's own client.
    const received = { fast: [] as DecodedFrame[], slow: [] as DecodedFrame[], view: [] as DecodedFrame[] };
    const fast = createRelayClient({ url, WebSocket: WebSocket as unknown as WebSocketConstructor });
    const slow = createRelayClient({ url, WebSocket: WebSocket as unknown as WebSocketConstructor });
    const viewer = createRelayClient({ url, WebSocket: WebSocket as unknown as WebSocketConstructor });
    clients.push(fast, slow, viewer);
    fast.subscribe('image', (event) => {
      if (event.kind === 'frame') received.fast.push(event.frame);
    });
    fast.subscribe('frames', (event) => {
      if (event.kind === 'frame') received.fast.push(event.frame);
    });
    slow.subscribe('image', (event) => {
      if (event.kind !== 'frame') return;
      received.slow.push(event.frame);
      const done = event.defer();
      setTimeout(done, 20);
    });
    viewer.subscribe(
      'image',
      (event) => {
        if (event.kind === 'frame') received.view.push(event.frame);
      },
      { view: { maxShape: [48, 48] } },
    );
    // A raw page that never acknowledges and stops reading its socket for a while: the relay parks its
    // frames (the newest of `image`, a queue of `frames`) while the kernel's buffers are full.
    const stalled = await connect(url);
    await subscribe(stalled, { topics: ['image', 'frames'] });
    // And one that asks for chunks and confirms far more than it reads, so that chunks pile up unwritten
    // behind its paused socket (each chunk's write must hold the frame it is a slice of).
    const liar = await connect(url);
    liar.send({ type: 'received', bytes: 0 });
    await subscribe(liar, { topics: ['image'] });
    await waitFor(() => relay.stats().clients.length === 5 && relay.stats().clients.every((client) => client.subscriptions.includes('image')) || undefined, 'five pages subscribed');
    const socketOf = (page: typeof stalled) => (page.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socketOf(stalled).pause();
    socketOf(liar).pause();
    let claimed = 0;

    for (let i = 0; i < 150; i++) {
      producer.publish((data, release) => relay.publishFrame('image', { dtype: 'float32', shape: [SIDE, SIDE] }, data, release));
      if (i % 3 === 0) streamProducer.publish((data, release) => relay.publishFrame('frames', { dtype: 'float32', shape: [SIDE * SIDE] }, data, release));
      claimed += 1 << 20;
      liar.send({ type: 'received', bytes: claimed });
      if (i === 100) {
        socketOf(stalled).resume();
        socketOf(liar).resume();
      }
      await sleep(i % 10 === 0 ? 8 : 1);
    }
    const last = producer.published - 1;
    // The liar, reading again, goes on confirming (else the relay keeps its chunks unsent, as it should).
    const confirming = setInterval(() => {
      claimed += 1 << 20;
      liar.send({ type: 'received', bytes: claimed });
    }, 5);
    onTestFinished(() => clearInterval(confirming));
    await waitFor(() => [received.fast, received.slow, received.view].every((frames) => frames.some((frame) => frame.topic === 'image' && frame.seq === last)) || undefined, 'every page has the last frame');
    await waitFor(() => stalled.binary.some((bytes) => decodeFrame(bytes).topic === 'image' && decodeFrame(bytes).seq === last) || undefined, 'the stalled page, reading again, has the last frame');
    await waitFor(() => assembled(liar.binary).some((frame) => frame.seq === last) || undefined, 'the liar has the last frame');
    await waitFor(() => tapped.length === producer.published + streamProducer.published || undefined, 'the tap read every frame');

    const stalledFrames = stalled.binary.map((bytes) => decodeFrame(bytes));
    const liarFrames = assembled(liar.binary);
    expect(liar.binary.filter((bytes) => isChunk(bytes)).length).toBeGreaterThan(liarFrames.length);
    expect(corrupted(liarFrames)).toEqual([]);
    expect(corrupted([...received.fast, ...received.slow, ...stalledFrames])).toEqual([]);
    expect(corrupted(received.view)).toEqual([]); // a view of a constant frame is that constant
    expect(received.view.every((frame) => frame.view !== undefined && frame.shape[0] === 48)).toBe(true);
    expect(tapWrong).toEqual([]);
    // The paths above were taken: frames coalesced for the slow and the stalled page, the stream queue
    // filled while the socket was paused, and frames went in chunks.
    expect(received.slow.length).toBeLessThan(producer.published / 2);
    expect(stalledFrames.filter((frame) => frame.topic === 'image').length).toBeLessThan(producer.published);
    expect(relay.stats().clients.some((client) => client.chunkedFrames > 0)).toBe(true);
    expect(relay.stats().views.computed).toBeGreaterThan(0);

    // Buffers came back as the frames went: a handful for 150 frames, not one each.
    expect(producer.allocated).toBeLessThanOrEqual(12);
    // Every buffer but the topic's newest comes back once the pages have it; retiring the topic frees that one.
    await waitFor(() => producer.released === producer.published - 1 || undefined, 'every image buffer but the newest handed back');
    await waitFor(() => streamProducer.released === streamProducer.published || undefined, 'every stream buffer handed back');
    relay.retireTopic('image');
    await waitFor(() => producer.released === producer.published || undefined, 'the newest handed back after its topic went');
  });

  it('hands back what a page held when the page goes away mid-stream (its socket stopped, then cut)', async () => {
    // Chunks smaller than a frame, so that frames wait in the bulk lane too.
    const { relay, url } = await startRelay({ topics: [{ name: 'image', mode: 'latest', binary: true }], highWaterMark: 256 * 1024, lowWaterMark: 64 * 1024, chunkBytes: 32 * 1024, bulkWindowBytes: 64 * 1024 });
    const producer = new ScribblingProducer();
    const page = await connect(url);
    page.send({ type: 'received', bytes: 0 }); // chunks
    await subscribe(page, { topics: ['image'] });
    (page.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    for (let i = 0; i < 40; i++) {
      producer.publish((data, release) => relay.publishFrame('image', { dtype: 'float32', shape: [SIDE, SIDE] }, data, release));
      await sleep(1);
    }
    await waitFor(() => (relay.stats().clients[0]?.laneFrames ?? 0) > 0 || undefined, 'a frame waiting in the lane');
    expect(producer.released).toBeLessThan(producer.published - 1); // the page holds some
    page.socket.terminate();
    // Everything but the topic's newest value comes back once the relay sees the connection gone.
    await waitFor(() => producer.released === producer.published - 1 || undefined, 'the dead page’s frames handed back');
  });

  it("never calls release from publishFrame itself, calls it once, and not at all when publishFrame throws", async () => {
    const { relay } = await startRelay({ topics: [{ name: 'image', mode: 'latest', binary: true }, { name: 'state', mode: 'latest' }] });
    const calls: string[] = [];
    relay.publishFrame('image', { dtype: 'float32', shape: [2] }, new Float32Array(2), () => calls.push('first'));
    relay.publishFrame('image', { dtype: 'float32', shape: [2] }, new Float32Array(2), () => calls.push('second'));
    expect(calls).toEqual([]); // the first is no longer the newest, but its release waits for publishFrame to return
    await sleep(0);
    expect(calls).toEqual(['first']);
    expect(() => relay.publishFrame('state', { dtype: 'float32', shape: [2] }, new Float32Array(2), () => calls.push('json topic'))).toThrow();
    expect(() => relay.publishFrame('image', { dtype: 'float32', shape: [3] }, new Float32Array(2), () => calls.push('bad shape'))).toThrow();
    // A release that throws is the producer's bug: the relay goes on.
    relay.publishFrame('image', { dtype: 'float32', shape: [2] }, new Float32Array(2), () => {
      throw new Error('a producer bug');
    });
    relay.publishFrame('image', { dtype: 'float32', shape: [2] }, new Float32Array(2));
    await sleep(5);
    expect(calls).toEqual(['first', 'second']);
  });
});
