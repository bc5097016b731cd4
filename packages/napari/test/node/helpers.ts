/** Real peers for the Node-side tests: a relay on port 0, its client over `ws`, Python child processes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRelay, type Relay, type RelayOptions } from '@webmon/relay';
import { createRelayClient, type RelayClient, type WebSocketConstructor } from '@webmon/relay/client';
import WebSocket from 'ws';
import { napariPayloadValidators } from '../../src/index.js';

export async function eventually<T>(check: () => T | undefined | false, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface RelayPair {
  relay: Relay;
  client: RelayClient;
  close(): Promise<void>;
}

/** A relay listening on a free port and a connected client that validates napari payloads. */
export async function relayPair(options: Partial<RelayOptions> = {}): Promise<RelayPair> {
  const relay = createRelay({ heartbeatMs: 0, ...options });
  const { url } = await relay.listen();
  const client = createRelayClient({ url, WebSocket: WebSocket as unknown as WebSocketConstructor, payloadValidators: napariPayloadValidators });
  await eventually(() => client.state === 'open', 30_000, 'relay client open');
  return {
    relay,
    client,
    async close() {
      client.close();
      await relay.close();
    },
  };
}

export interface Child {
  child: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  send(line: string): void;
  stop(): Promise<void>;
}

/** Runs a command, collecting stdout and stderr; `waitFor` resolves on the first match. */
export function startChild(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Child {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
  let all = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (all += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (all += chunk));
  return {
    child,
    output: () => all,
    async waitFor(pattern, timeoutMs = 30_000) {
      return eventually(() => all.match(pattern) ?? (child.exitCode !== null ? (() => { throw new Error(`exited before ${pattern}: ${all}`); })() : undefined), timeoutMs, String(pattern));
    },
    send: (line) => void child.stdin?.write(`${line}\n`),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
