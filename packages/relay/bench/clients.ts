/**
 * The receiving side of the benchmarks, in its own process (so client CPU does not steal the server's
 * event loop). Driven over IPC by the parent: connect N clients of one kind, report progress, return
 * latency percentiles.
 */
import { connect as connectNet } from 'node:net';
import { io as connectSocketIo, type Socket as SocketIoSocket } from 'socket.io-client';
import WebSocket from 'ws';
import { createRelayClient, type RelayClient, type WebSocketConstructor } from '../src/client.js';

export type ClientKind = 'relay' | 'socketio' | 'ws-bytes' | 'net-bytes';

export type ParentCommand =
  | { cmd: 'connect'; kind: ClientKind; url: string; count: number; topic?: string }
  | { cmd: 'mark' }
  | { cmd: 'cpu' }
  | { cmd: 'latency' }
  | { cmd: 'finish' };

export type ChildReport =
  | { type: 'ready' }
  | { type: 'progress'; minReceived: number; totalReceived: number; bytes: number }
  | { type: 'cpu'; cpuMicros: number }
  | { type: 'done'; latencies: { p50: number; p99: number; samples: number } };

const now = () => performance.timeOrigin + performance.now();
const send = (report: ChildReport) => process.send?.(report);

const received: number[] = [];
let bytes = 0;
const latencies = new Float64Array(2_000_000);
let latencyCount = 0;
const closers: (() => void)[] = [];
let cpuAtStart = process.cpuUsage();

function onPayload(index: number, payload: { t: number; i: number }): void {
  received[index] = (received[index] ?? 0) + 1;
  if (latencyCount < latencies.length) latencies[latencyCount++] = now() - payload.t;
}

async function connectAll(command: Extract<ParentCommand, { cmd: 'connect' }>): Promise<void> {
  const opened: Promise<void>[] = [];
  for (let index = 0; index < command.count; index += 1) {
    received[index] = 0;
    if (command.kind === 'relay') {
      const client: RelayClient<Record<string, { t: number; i: number }>> = createRelayClient({ url: command.url, WebSocket: WebSocket as unknown as WebSocketConstructor });
      opened.push(new Promise((resolve) => {
        // The first topic is counted (its payloads carry `t` and `i`); others are only received.
        const [counted = 'bench', ...others] = (command.topic ?? 'bench').split(',');
        client.subscribe(counted, (event) => {
          if (event.kind === 'data') onPayload(index, event.payload);
        });
        for (const topic of others) client.subscribe(topic, () => undefined);
        // The subscription is in place once the (empty) snapshot has been processed: ping after it.
        const off = client.onHello(() => {
          off();
          void client.ping().then(() => resolve());
        });
      }));
      closers.push(() => client.close());
    } else if (command.kind === 'socketio') {
      const socket: SocketIoSocket = connectSocketIo(command.url, { transports: ['websocket'], reconnection: false });
      socket.on('data', (payload: { t: number; i: number }) => onPayload(index, payload));
      opened.push(new Promise((resolve) => socket.on('connect', () => resolve())));
      closers.push(() => socket.close());
    } else if (command.kind === 'ws-bytes') {
      const socket = new WebSocket(command.url, ['webmon.v1']);
      socket.on('message', (data, isBinary) => {
        if (!isBinary) return;
        bytes += Array.isArray(data) ? data.reduce((sum, part) => sum + part.length, 0) : (data as Buffer).byteLength;
        received[index] = (received[index] ?? 0) + 1;
      });
      opened.push(new Promise((resolve) => socket.on('message', (data, isBinary) => {
        if (!isBinary && data.toString().includes('"type":"ack"')) resolve();
        if (!isBinary && data.toString().includes('"type":"hello"')) socket.send(JSON.stringify({ type: 'subscribe', id: 'ready', topics: [command.topic ?? 'bench'] }));
      })));
      closers.push(() => socket.terminate());
    } else {
      const [host, port] = command.url.split(':');
      const socket = connectNet(Number(port), host);
      socket.on('data', (chunk) => {
        bytes += chunk.length;
      });
      opened.push(new Promise((resolve) => socket.on('connect', () => resolve())));
      closers.push(() => socket.destroy());
    }
  }
  await Promise.all(opened);
}

function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;
}

process.on('message', (message: ParentCommand) => {
  if (message.cmd === 'connect') {
    void connectAll(message).then(() => {
      send({ type: 'ready' });
      const timer = setInterval(() => {
        let min = Infinity;
        let total = 0;
        for (const count of received) {
          min = Math.min(min, count);
          total += count;
        }
        send({ type: 'progress', minReceived: received.length === 0 ? 0 : min, totalReceived: total, bytes });
      }, 5);
      closers.push(() => clearInterval(timer));
    });
  } else if (message.cmd === 'mark') {
    cpuAtStart = process.cpuUsage();
  } else if (message.cmd === 'cpu') {
    const cpu = process.cpuUsage(cpuAtStart);
    send({ type: 'cpu', cpuMicros: cpu.user + cpu.system });
  } else if (message.cmd === 'latency') {
    latencyCount = 0;
  } else {
    for (const close of closers) close();
    const sorted = latencies.slice(0, latencyCount).sort();
    send({ type: 'done', latencies: { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), samples: latencyCount } });
    setTimeout(() => process.exit(0), 50);
  }
});
