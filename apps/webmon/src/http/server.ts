/**
 * One HTTP server for everything (routes in `routes.ts`) with the relay's WebSocket at `/ws` attached
 * to it, so pages connect same-origin. This file is the lifecycle: listen, say clearly why not, close.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRelay, type Relay, type RelayOptions } from '@webmon/relay';
import { DEFAULT_FLIGHT_RECORDER_BYTES, createFlightRecorder, type FlightRecorder, type JsonSchemaLookup } from '@webmon/recorder';
import { WebmonError, WebmonErrorCode } from '../errors.js';
import { sendText } from './responses.js';
import { WS_PATH, createRequestHandler, type WebmonRoutesOptions } from './routes.js';
import { createSessionGate } from './session.js';
import { CONNECTIONS_CHECKING_INTERVAL_MS, limitSockets, type SocketLimits } from './socket-limits.js';

export interface WebmonServerOptions extends Omit<WebmonRoutesOptions, 'session' | 'flightRecorder'> {
  /** Bytes of the flight recorder (the last minutes of every topic, in memory); 0 turns it off. @default 256 MiB */
  flightRecorderBytes?: number;
  /** Most RawImage messages per second per image topic in the flight recorder's saves. @default 5 (the recorder's) */
  rawImageHz?: number;
  /** The topics' JSON Schemas for recordings. */
  schemas?: JsonSchemaLookup;
  port: number;
  /** With `token`, every HTTP answer needs the token too (exchanged for a session cookie, `session.ts`). */
  relay: Omit<RelayOptions, 'server' | 'path' | 'authorizeRequest'>;
  /** Raw socket bounds (`socket-limits.ts`). @default { maxSockets: 256, idleMs: 5000 } */
  sockets?: Omit<SocketLimits, 'upgradePath'>;
  /**
   * A route threw: the request got `500 internal error` (the error's text stays on this side: it may name
   * paths of this machine); this says what threw, for the log.
   */
  onInternalError?: (error: unknown, request: IncomingMessage) => void;
}

export interface WebmonServer {
  readonly relay: Relay;
  readonly http: Server;
  readonly flightRecorder: FlightRecorder;
  /** `http://host:port/` as a browser should open it. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startWebmonServer(options: WebmonServerOptions): Promise<WebmonServer> {
  const http = createServer({ connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS });
  // Slow or idle clients must not hold sockets, nor many of them lock browsers out.
  limitSockets(http, { ...options.sockets, upgradePath: WS_PATH });
  const session = options.relay.token === undefined ? undefined : createSessionGate(options.relay.token);
  const relay = createRelay({
    ...options.relay,
    server: http,
    path: WS_PATH,
    // The session cookie stands for the token on the WebSocket too (pages opened after the exchange).
    ...(session === undefined ? {} : { authorizeRequest: (request: IncomingMessage) => session.admits(request) }),
  });
  const flightRecorder = createFlightRecorder(relay, { maxBytes: options.flightRecorderBytes ?? DEFAULT_FLIGHT_RECORDER_BYTES, ...(options.schemas === undefined ? {} : { schemas: options.schemas }), ...(options.rawImageHz === undefined ? {} : { rawImageHz: options.rawImageHz }) });
  const handle = createRequestHandler({ ...options, flightRecorder, ...(session === undefined ? {} : { session }) }, relay);
  http.on('request', (request, response) => {
    try {
      handle(request, response);
    } catch (error) {
      options.onInternalError?.(error, request);
      if (!response.headersSent) sendText(response, 500, 'internal error\n');
      else response.destroy();
    }
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      http.off('listening', onListening);
      if (error.code === 'EADDRINUSE') {
        reject(new WebmonError(WebmonErrorCode.PORT_IN_USE, `port ${options.port} on ${options.host} is already in use (another webmon?). Stop that program or choose another port: --port 0 picks a free one.`, { cause: error }));
      } else {
        reject(new WebmonError(WebmonErrorCode.LISTEN_FAILED, `cannot listen on ${options.host}:${options.port}: ${error.message}`, { cause: error }));
      }
    };
    const onListening = (): void => {
      http.off('error', onError);
      resolve();
    };
    http.once('error', onError);
    http.once('listening', onListening);
    http.listen(options.port, options.host);
  }).catch(async (error: unknown) => {
    flightRecorder.close();
    await relay.close().catch(() => undefined);
    throw error;
  });

  const address = http.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const urlHost = address.address === '0.0.0.0' || address.address === '::' ? 'localhost' : shownHost;
  let closing: Promise<void> | undefined;
  return {
    relay,
    http,
    flightRecorder,
    port: address.port,
    url: `http://${urlHost}:${address.port}/`,
    close() {
      closing ??= (async () => {
        flightRecorder.close();
        await relay.close();
        await new Promise<void>((resolve) => {
          http.close(() => resolve());
          http.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}
