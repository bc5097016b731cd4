/**
 * Raw connection bounds of the app's HTTP server, so idle or slow sockets cannot exhaust file
 * descriptors and lock real browsers out:
 * - at most `maxSockets` HTTP sockets; a new one beyond evicts the oldest socket that has no request in
 *   progress (an idle or never-speaking one), so a flood of idle sockets cannot keep a browser out;
 * - a socket silent for `idleMs`, or whose request headers are not complete within `idleMs`, is cut.
 * Upgraded sockets (the relay's WebSockets) leave this count: the relay bounds them itself
 * (`maxConnections`, `maxConnectionsPerAddress`).
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { requestTarget } from '@webmon/relay';

export interface SocketLimits {
  /** HTTP sockets open at most. @default 256 */
  maxSockets?: number;
  /** Silence, and time to send complete request headers, allowed to a socket. @default 5000 */
  idleMs?: number;
  /** Upgrades to other paths are answered 404 here (the relay answers only its own path). */
  upgradePath: string;
}

export const SOCKET_DEFAULTS = { maxSockets: 256, idleMs: 5_000 } as const;

/** Node checks header and request deadlines on this interval (its default, 30 s, is why idle sockets lived ~a minute). */
export const CONNECTIONS_CHECKING_INTERVAL_MS = 1_000;

export function limitSockets(server: Server, limits: SocketLimits): void {
  const maxSockets = limits.maxSockets ?? SOCKET_DEFAULTS.maxSockets;
  const idleMs = limits.idleMs ?? SOCKET_DEFAULTS.idleMs;
  server.headersTimeout = idleMs;
  server.requestTimeout = Math.max(idleMs, 10_000);
  server.keepAliveTimeout = idleMs;
  // Inactivity: without a 'timeout' listener Node destroys the socket.
  server.setTimeout(idleMs);

  /** Open HTTP sockets, oldest first (a Set keeps insertion order). */
  const open = new Set<Socket>();
  const busy = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    if (open.size >= maxSockets) {
      let victim: Socket | undefined;
      for (const candidate of open) {
        if (!busy.has(candidate)) {
          victim = candidate;
          break;
        }
      }
      if (victim === undefined) {
        socket.destroy(); // every slot is serving a request: this one waits its turn by retrying
        return;
      }
      open.delete(victim);
      victim.destroy();
    }
    open.add(socket);
    socket.once('close', () => {
      open.delete(socket);
      busy.delete(socket);
    });
  });
  server.on('request', (request, response) => {
    const socket = request.socket;
    busy.add(socket);
    response.once('close', () => busy.delete(socket));
  });
  // Prepended so the socket leaves the count before the relay takes it.
  server.prependListener('upgrade', (request, socket: Duplex) => {
    open.delete(socket as Socket);
    busy.delete(socket as Socket);
    if (requestTarget(request.url)?.pathname !== limits.upgradePath) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
}
