import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import {
  RelayClientError,
  RelayClientErrorCode,
  createRelayClient,
  isRelayClientError,
  type WebSocketConstructor,
} from '../src/client.js';
import { RelayCommandError, RelayError, RelayErrorCode, createRelay, isRelayCommandError, isRelayError } from '../src/index.js';
import { cleanup, startRelay, waitFor } from './helpers.js';

afterEach(async () => {
  vi.unstubAllGlobals();
  await cleanup();
});

describe('error codes', () => {
  it('are prefixed per package, one spelling per meaning', () => {
    expect(Object.values(RelayErrorCode).sort()).toEqual([
      'RELAY_ALREADY_LISTENING',
      'RELAY_BAD_PAYLOAD',
      'RELAY_DISPOSED',
      'RELAY_INVALID_OPTIONS',
      'RELAY_TOKEN_REQUIRED',
      'RELAY_TOPIC_CONFLICT',
      'RELAY_UNKNOWN_TOPIC',
      'RELAY_WRONG_TOPIC_KIND',
    ]);
    expect(Object.values(RelayClientErrorCode).sort()).toEqual([
      'RELAY_CLIENT_BAD_SERVER_MESSAGE',
      'RELAY_CLIENT_BULK_WORKER_FAILED',
      'RELAY_CLIENT_DISCONNECTED',
      'RELAY_CLIENT_DISPOSED',
      'RELAY_CLIENT_INVALID_OPTIONS',
      'RELAY_CLIENT_REJECTED',
    ]);
  });

  it('guards tell each error class apart', () => {
    const server = new RelayError(RelayErrorCode.DISPOSED, 'x');
    const command = new RelayCommandError('NO_PUBLISHER', 'x');
    const client = new RelayClientError(RelayClientErrorCode.DISPOSED, 'x');
    expect([isRelayError(server), isRelayError(command), isRelayError(client), isRelayError(new Error('x'))]).toEqual([true, false, false, false]);
    expect([isRelayCommandError(command), isRelayCommandError(server), isRelayCommandError(undefined)]).toEqual([true, false, false]);
    expect([isRelayClientError(client), isRelayClientError(server), isRelayClientError({ code: 'RELAY_CLIENT_DISPOSED' })]).toEqual([true, false, false]);
  });

  it('RELAY_DISPOSED for a relay used after close()', async () => {
    const relay = createRelay({ topics: [{ name: 'events', mode: 'stream' }], heartbeatMs: 0 });
    await relay.close();
    expect(() => relay.publish('events', 1)).toThrow(expect.objectContaining({ code: 'RELAY_DISPOSED' }));
    expect(() => relay.declareTopic({ name: 'more', mode: 'latest' })).toThrow(expect.objectContaining({ code: 'RELAY_DISPOSED' }));
    await expect(relay.listen()).rejects.toMatchObject({ code: 'RELAY_DISPOSED' });
  });

  it('RELAY_CLIENT_INVALID_OPTIONS without a WebSocket constructor', () => {
    vi.stubGlobal('WebSocket', undefined);
    expect(() => createRelayClient({ url: 'ws://127.0.0.1:1' })).toThrow(expect.objectContaining({ name: 'RelayClientError', code: 'RELAY_CLIENT_INVALID_OPTIONS' }));
  });

  it('RELAY_CLIENT_DISPOSED for requests pending at close() and made after it', async () => {
    const { relay, url } = await startRelay({ topics: [] });
    relay.onCommand(() => new Promise(() => undefined));
    const client = createRelayClient({ url, WebSocket: WebSocket as unknown as WebSocketConstructor });
    try {
      await waitFor(() => client.state === 'open' || undefined, 'open');
      const pending = client.command('hang', null, { timeoutMs: 30_000 });
      client.close();
      await expect(pending).rejects.toMatchObject({ code: 'RELAY_CLIENT_DISPOSED' });
      await expect(client.command('hang', null)).rejects.toMatchObject({ code: 'RELAY_CLIENT_DISPOSED' });
      await expect(client.ping()).rejects.toMatchObject({ code: 'RELAY_CLIENT_DISPOSED' });
    } finally {
      client.close();
    }
  });
});
