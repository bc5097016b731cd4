/**
 * Fan-out of ~200-byte JSON messages to N clients: the relay against socket.io doing the same broadcast.
 * Both publishers are window-limited by what the slowest client has received (reported over IPC), so
 * neither side is measured by how much it can buffer; latency is publish → handler, across processes.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as yieldToIo } from 'node:timers/promises';
import { Server as SocketIoServer } from 'socket.io';
import { createRelay } from '../src/index.js';
import { startClients } from './child.js';

export interface FanoutResult {
  system: 'relay' | 'socket.io';
  clients: number;
  published: number;
  delivered: number;
  seconds: number;
  messagesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Publisher (server) CPU per delivered message, µs: independent of what else loads the machine. */
  serverCpuMicrosPerMessage: number;
  /** Receiving process CPU per delivered message, µs. */
  clientCpuMicrosPerMessage: number;
}

/**
 * Messages a publisher may be ahead of the slowest client. With one client a small window would measure
 * the IPC round trip of the progress reports on a loaded machine, not the transport.
 */
const windowFor = (clients: number) => Math.max(4_000, Math.round(40_000 / clients));
const BATCH = 256;
const now = () => performance.timeOrigin + performance.now();
const PAD = 'x'.repeat(160); // {"t":…,"i":…,"pad":"…"} ≈ 200 bytes

interface Publisher {
  url: string;
  publish(payload: { t: number; i: number; pad: string }): void;
  close(): Promise<void>;
}

async function relayPublisher(window: number): Promise<Publisher> {
  const relay = createRelay({
    topics: [{ name: 'bench', mode: 'stream' }],
    maxConnections: 256,
    // Room for the whole window: this measures delivery, not drops.
    maxQueuedMessages: window * 2,
    maxQueuedBytes: window * 2 * 300,
    maxBufferedBytes: window * 4 * 300 + 2 ** 20,
  });
  const { url } = await relay.listen();
  return { url, publish: (payload) => relay.publish('bench', payload), close: () => relay.close() };
}

async function socketIoPublisher(): Promise<Publisher> {
  const server = createServer();
  const io = new SocketIoServer(server, { transports: ['websocket'], perMessageDeflate: false, serveClient: false });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    publish: (payload) => io.emit('data', payload),
    close: async () => {
      io.disconnectSockets(true);
      await new Promise<void>((resolve) => io.close(() => resolve()));
    },
  };
}

/** Delivered messages per second offered in the latency phase, the same for both systems. */
export const LATENCY_DELIVERED_RATE = 20_000;

export async function runFanout(system: FanoutResult['system'], clients: number, seconds: number): Promise<FanoutResult> {
  const window = windowFor(clients);
  const publisher = system === 'relay' ? await relayPublisher(window) : await socketIoPublisher();
  const receivers = await startClients(system === 'relay' ? 'relay' : 'socketio', publisher.url, clients);
  try {
    let published = 0;
    const publishOne = () => publisher.publish({ t: now(), i: published++, pad: PAD });
    const pump = async (until: () => boolean) => {
      while (!until()) {
        const room = Math.min(BATCH, window - (published - receivers.progress.minReceived));
        for (let index = 0; index < room; index += 1) publishOne();
        await yieldToIo();
      }
    };
    const drained = () => {
      const target = published;
      return receivers.until((progress) => progress.minReceived >= target);
    };
    // Warm-up (JIT, socket buffers), not measured.
    const warmEnd = now() + 500;
    await pump(() => now() > warmEnd);
    await drained();
    const totalBefore = receivers.progress.totalReceived;
    const publishedBefore = published;

    // 1. Throughput: as fast as the slowest client takes it (closed loop, `windowFor` messages ahead).
    receivers.mark();
    const cpuStart = process.cpuUsage();
    const start = now();
    const end = start + seconds * 1000;
    await pump(() => now() > end);
    await drained();
    const elapsed = (now() - start) / 1000;
    const serverCpu = process.cpuUsage(cpuStart);
    const clientCpu = await receivers.cpu();
    const delivered = receivers.progress.totalReceived - totalBefore;

    // 2. Latency at one fixed offered load for both systems (a closed loop would only measure the window).
    const rate = LATENCY_DELIVERED_RATE / clients;
    receivers.startLatency();
    const latencyStart = now();
    const latencyEnd = latencyStart + Math.min(seconds, 1) * 1000;
    let sent = 0;
    while (now() < latencyEnd) {
      const due = Math.floor(((now() - latencyStart) / 1000) * rate);
      for (; sent < due; sent += 1) publishOne();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await drained();
    const latencies = await receivers.finish();
    return {
      system,
      clients,
      published: published - publishedBefore - sent,
      delivered,
      seconds: elapsed,
      messagesPerSecond: delivered / elapsed,
      p50Ms: latencies.p50,
      p99Ms: latencies.p99,
      serverCpuMicrosPerMessage: (serverCpu.user + serverCpu.system) / delivered,
      clientCpuMicrosPerMessage: clientCpu / delivered,
    };
  } finally {
    receivers.child.kill();
    await publisher.close();
  }
}
