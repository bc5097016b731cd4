/** What a proxy needs of its manager client (the object `create` made, and the calls on it by ident), apart from client.ts, so that client.ts and proxies.ts do not import each other. */
import type { PyEncodable, PyValue } from '../pickle/index.js';
import type { Kwargs } from './reply.js';
import type { CallOptions } from './serving-connection.js';

/** What `create` returns: the server-side id of the object and the methods it exposes. */
export interface CreatedObject {
  typeid: string;
  ident: string;
  exposed: string[];
}

/** The method calls a proxy makes through its client (`ManagerClient` has them). */
export interface ProxyClient {
  /** Calls an exposed method on the shared serving connection (pipelined with other calls). */
  callMethod(ident: string, method: string, args?: readonly PyEncodable[], kwds?: Kwargs, options?: CallOptions): Promise<PyValue>;
  /** Like `callMethod` but returns the raw reply payload. */
  callMethodRaw(ident: string, method: string, args?: readonly PyEncodable[], kwds?: Kwargs, options?: CallOptions): Promise<Buffer>;
  /** Calls a method that may block on the server, on a connection of its own. */
  callBlocking(ident: string, method: string, args?: readonly PyEncodable[], kwds?: Kwargs, options?: CallOptions): Promise<PyValue>;
}
