/**
 * Misbehaving peers on real sockets (port 0): things that are not a Python manager, and a fake
 * manager that authenticates like CPython 3.11 and then breaks the framing on purpose.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

function track(server: Server): RunningServer & { sockets: Set<Socket> } {
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  return {
    sockets,
    get port() {
      return (server.address() as AddressInfo).port;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
}

/** A plain HTTP server: it waits for a request and never speaks first. */
export async function httpServer(): Promise<RunningServer> {
  const server = createHttpServer((_req, res) => res.end('hello'));
  const running = track(server as unknown as Server);
  await listen(server as unknown as Server);
  return running;
}

/** Writes `bytes` as soon as a client connects, then keeps the connection open. */
export async function garbageServer(bytes: Buffer): Promise<RunningServer> {
  const server = createServer((socket) => socket.write(bytes));
  const running = track(server);
  await listen(server);
  return running;
}

function frame(payload: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeInt32BE(payload.length);
  return Buffer.concat([header, payload]);
}

/**
 * A fake manager: performs the server side of the 3.11 handshake (20-byte challenge, raw HMAC-MD5)
 * written independently of the client code, then calls `afterHandshake` with the socket.
 */
export async function fakeManager(
  authkey: string,
  afterHandshake: (socket: Socket) => void,
): Promise<RunningServer> {
  const key = Buffer.from(authkey);
  const server = createServer((socket) => {
    let buffered = Buffer.alloc(0);
    let step = 0;
    const challenge = randomBytes(20);
    socket.write(frame(Buffer.concat([Buffer.from('#CHALLENGE#'), challenge])));
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
        const n = buffered.readInt32BE(0);
        const payload = buffered.subarray(4, 4 + n);
        buffered = buffered.subarray(4 + n);
        if (step === 0) {
          const expected = createHmac('md5', key).update(challenge).digest();
          if (!payload.equals(expected)) {
            socket.end(frame(Buffer.from('#FAILURE#')));
            return;
          }
          socket.write(frame(Buffer.from('#WELCOME#')));
        } else if (step === 1) {
          const theirs = payload.subarray(11);
          socket.write(frame(createHmac('md5', key).update(theirs).digest()));
        } else if (step === 2) {
          // their #WELCOME#
        } else {
          socket.off('data', onData);
          afterHandshake(socket);
          return;
        }
        step++;
      }
    };
    socket.on('data', onData);
  });
  const running = track(server);
  await listen(server);
  return running;
}
