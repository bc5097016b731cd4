/** Real sockets on port 0, and a client that records everything it receives. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { parseServerMessage, type DataMessage, type ServerMessage } from '@webmon/protocol';
import { createRelay, type Relay, type RelayOptions } from '../src/index.js';

export const relays: Relay[] = [];
export const sockets: WebSocket[] = [];
export const children: ChildProcess[] = [];

export async function cleanup(): Promise<void> {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
  }
  for (const socket of sockets.splice(0)) socket.terminate();
  await Promise.all(relays.splice(0).map((relay) => relay.close()));
}

export async function startRelay(options: RelayOptions): Promise<{ relay: Relay; url: string; port: number }> {
  const relay = createRelay({ heartbeatMs: 0, ...options });
  relays.push(relay);
  const address = await relay.listen();
  return { relay, url: address.url, port: address.port };
}

/** Polls until `check` returns a value other than undefined/false. */
export async function waitFor<T>(check: () => T | undefined | false, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface Recorder {
  socket: WebSocket;
  messages: ServerMessage[];
  binary: Buffer[];
  closed: Promise<{ code: number; reason: string }>;
  opened: Promise<boolean>;
  send(value: unknown): void;
  next<T extends ServerMessage['type']>(type: T, from?: number, predicate?: (message: Extract<ServerMessage, { type: T }>) => boolean): Promise<Extract<ServerMessage, { type: T }>>;
}

/** A raw `ws` client that validates and records every message from the server. */
export function record(url: string, options: { protocols?: string[]; headers?: Record<string, string> } = {}): Recorder {
  const socket = new WebSocket(url, options.protocols ?? ['webmon.v1'], { headers: options.headers ?? {} });
  sockets.push(socket);
  const messages: ServerMessage[] = [];
  const binary: Buffer[] = [];
  socket.on('error', () => undefined);
  socket.on('message', (data, isBinary) => {
    const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
    if (isBinary) binary.push(buffer);
    else messages.push(parseServerMessage(buffer.toString('utf8')));
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  const opened = new Promise<boolean>((resolve) => {
    socket.on('open', () => resolve(true));
    socket.on('close', () => resolve(false));
  });
  return {
    socket,
    messages,
    binary,
    closed,
    opened,
    send: (value) => socket.send(typeof value === 'string' ? value : JSON.stringify(value)),
    next: (type, from = 0, predicate = () => true) =>
      waitFor(
        () => messages.slice(from).find((message) => message.type === type && predicate(message as never)) as never,
        `a ${type} message`,
      ),
  };
}

export interface StallableClient {
  child: ChildProcess;
  lines: unknown[];
  stop(): void;
  resume(): void;
}

/** A client in its own process that the test can freeze with SIGSTOP: a page that stops reading. */
export function spawnStallableClient(url: string, topics: string[]): StallableClient {
  const script = fileURLToPath(new URL('./fixtures/stallable-client.mjs', import.meta.url));
  const child = spawn(process.execPath, [script, url, topics.join(',')], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const lines: unknown[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(JSON.parse(line)));
  return {
    child,
    lines,
    stop: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The `data` messages of `topic` among what a client recorded. */
export const dataOf = (messages: ServerMessage[], topic: string): DataMessage[] =>
  messages.filter((message): message is DataMessage => message.type === 'data' && message.topic === topic);

let requests = 0;

/** Everything the relay wrote before this returns has arrived (a pong follows what was written before it). */
export async function settle(client: Recorder): Promise<void> {
  const id = `settle${requests++}`;
  const from = client.messages.length;
  client.send({ type: 'ping', id, time: 0 });
  await client.next('pong', from, (message) => message.id === id);
}

/** A recording client past its `hello`. */
export async function connect(url: string): Promise<Recorder> {
  const client = record(url);
  await client.next('hello');
  return client;
}

/** Sends a `subscribe` (fields of `message` added) and waits for its `ack`. */
export async function subscribe(client: Recorder, message: Record<string, unknown>): Promise<void> {
  const id = `s${requests++}`;
  client.send({ type: 'subscribe', id, ...message });
  await client.next('ack', 0, (ack) => ack.id === id);
}

/** A recording client subscribed to `names` (with a credit `window` when given). */
export async function subscribed(url: string, names: string[], window?: number): Promise<Recorder> {
  const client = await connect(url);
  await subscribe(client, { topics: names, ...(window === undefined ? {} : { window }) });
  return client;
}

/** mulberry32: a failing case reproduces from its seed. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
