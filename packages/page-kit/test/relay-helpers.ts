/**
 * What the host tests against a real relay share: a relay on port 0 with the real browser client over a
 * socket (closed after each test), a stand-in element, and polling until a condition holds.
 */
import { createRequire } from 'node:module';
import { afterEach } from 'vitest';
import { createRelay, type Relay, type RelayOptions } from '@webmon/relay';
import { createRelayClient, type RelayClient, type WebSocketConstructor } from '@webmon/relay/client';

// `ws` comes through @webmon/relay (its dependency), so page-kit needs no socket library of its own.
const WebSocket = createRequire(createRequire(import.meta.url).resolve('@webmon/relay'))('ws') as WebSocketConstructor;

const opened: { relay: Relay; client: RelayClient }[] = [];
afterEach(async () => {
  for (const { relay, client } of opened.splice(0)) {
    client.close();
    await relay.close();
  }
});

/** A relay with these topics (no heartbeat) and a client connected to it; both closed after the test. */
export async function connect(topics: NonNullable<RelayOptions['topics']>): Promise<{ relay: Relay; client: RelayClient }> {
  const relay = createRelay({ topics, heartbeatMs: 0 });
  const { url } = await relay.listen();
  const client = createRelayClient({ url, WebSocket });
  opened.push({ relay, client });
  return { relay, client };
}

export const element = (): HTMLElement => ({ dataset: {}, textContent: '', title: '' }) as unknown as HTMLElement;
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitFor(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
