/**
 * 4 MiB binary frames to one client in another process: the relay against a raw `net` socket pair
 * (the bound: the same bytes with no WebSocket framing at all) and plain `ws` sending header + data
 * as two fragments (the approach the relay replaced with pre-framed writes).
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { once } from 'node:events';
import { WebSocketServer } from 'ws';
import { encodeFrameHeader } from '@webmon/protocol';
import { createRelay } from '../src/index.js';
import { startClients } from './child.js';

export interface BinaryResult {
  system: 'relay' | 'ws fragments' | 'raw net';
  frames: number;
  frameBytes: number;
  seconds: number;
  gigabytesPerSecond: number;
}

export const FRAME_BYTES = 4 * 2 ** 20;
const data = new Uint8Array(FRAME_BYTES).map((_, index) => index % 251);
const now = () => performance.now();

export async function runBinary(system: BinaryResult['system'], frames: number): Promise<BinaryResult> {
  if (system === 'relay') {
    const relay = createRelay({
      topics: [{ name: 'frames', mode: 'stream', binary: true }],
      // The burst is queued by reference (one shared buffer), so a large queue costs no memory.
      maxQueuedMessages: frames + 1,
      maxQueuedBytes: (frames + 1) * (FRAME_BYTES + 4096),
      maxBufferedBytes: (frames + 4) * (FRAME_BYTES + 4096),
    });
    const { url } = await relay.listen();
    const receiver = await startClients('ws-bytes', url, 1, 'frames');
    try {
      const measure = async (count: number) => {
        const before = receiver.progress.bytes;
        const start = now();
        for (let index = 0; index < count; index += 1) relay.publishFrame('frames', { dtype: 'uint8', shape: [FRAME_BYTES] }, data);
        await receiver.until((progress) => progress.bytes - before >= count * FRAME_BYTES);
        return (now() - start) / 1000;
      };
      await measure(4); // warm-up
      const seconds = await measure(frames);
      return { system, frames, frameBytes: FRAME_BYTES, seconds, gigabytesPerSecond: (frames * FRAME_BYTES) / seconds / 1e9 };
    } finally {
      receiver.child.kill();
      await relay.close();
    }
  }

  if (system === 'ws fragments') {
    const server = createHttpServer();
    const wss = new WebSocketServer({ server, perMessageDeflate: false, handleProtocols: () => 'webmon.v1' });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const connected = once(wss, 'connection');
    let seq = 0;
    wss.on('connection', (ws) => {
      ws.on('message', () => ws.send(JSON.stringify({ type: 'ack', id: 'ready' })));
      ws.send(JSON.stringify({ type: 'hello' }));
    });
    const receiver = await startClients('ws-bytes', `ws://127.0.0.1:${port}/`, 1, 'frames');
    const [ws] = (await connected) as [import('ws').WebSocket];
    try {
      const measure = async (count: number) => {
        const before = receiver.progress.bytes;
        const start = now();
        for (let index = 0; index < count; index += 1) {
          const header = encodeFrameHeader({ topic: 'frames', seq: seq++, time: Date.now(), dtype: 'uint8', shape: [FRAME_BYTES] }, FRAME_BYTES);
          ws.send(header, { binary: true, fin: false });
          ws.send(data, { binary: true, fin: true });
        }
        await receiver.until((progress) => progress.bytes - before >= count * FRAME_BYTES);
        return (now() - start) / 1000;
      };
      await measure(4);
      const seconds = await measure(frames);
      return { system, frames, frameBytes: FRAME_BYTES, seconds, gigabytesPerSecond: (frames * FRAME_BYTES) / seconds / 1e9 };
    } finally {
      receiver.child.kill();
      ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }

  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const connected = once(server, 'connection');
  const receiver = await startClients('net-bytes', `127.0.0.1:${port}`, 1);
  const [socket] = (await connected) as [Socket];
  socket.setNoDelay(true);
  try {
    const measure = async (count: number) => {
      const before = receiver.progress.bytes;
      const start = now();
      // Queued all at once, as the relay and ws runs do: Node keeps references, so nothing is copied,
      // and the kernel buffer never runs dry waiting for a 'drain' round trip.
      for (let index = 0; index < count; index += 1) socket.write(data);
      await receiver.until((progress) => progress.bytes - before >= count * FRAME_BYTES);
      return (now() - start) / 1000;
    };
    await measure(4);
    const seconds = await measure(frames);
    return { system, frames, frameBytes: FRAME_BYTES, seconds, gigabytesPerSecond: (frames * FRAME_BYTES) / seconds / 1e9 };
  } finally {
    receiver.child.kill();
    socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}
