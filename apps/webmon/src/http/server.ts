/**
 * One HTTP server for everything (routes in `routes.ts`) with the relay's WebSocket at `/ws` attached
 * to it, so pages connect same-origin. This file is the lifecycle: listen, say clearly why not, close.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRelay, type Relay, type RelayOptions } from '@webmon/relay';
import { WebmonError, WebmonErrorCode } from '../errors.js';
import { sendText } from './responses.js';
import { WS_PATH, createRequestHandler, type WebmonRoutesOptions } from './routes.js';

export interface WebmonServerOptions extends WebmonRoutesOptions {
  port: number;
  relay: Omit<RelayOptions, 'server' | 'path'>;
}

export interface WebmonServer {
  readonly relay: Relay;
  readonly http: Server;
  /** `http://host:port/` as a browser should open it. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startWebmonServer(options: WebmonServerOptions): Promise<WebmonServer> {
  const http = createServer();
  // Slow or idle clients must not hold sockets forever.
  http.headersTimeout = 20_000;
  http.requestTimeout = 30_000;
  const relay = createRelay({ ...options.relay, server: http, path: WS_PATH });
  const handle = createRequestHandler(options, relay);
  http.on('request', (request, response) => {
    try {
      handle(request, response);
    } catch (error) {
      if (!response.headersSent) sendText(response, 500, `internal error: ${(error as Error).message}\n`);
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
    port: address.port,
    url: `http://${urlHost}:${address.port}/`,
    close() {
      closing ??= (async () => {
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
