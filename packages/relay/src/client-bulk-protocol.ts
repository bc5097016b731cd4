/**
 * Messages between the relay client on the page and its bulk worker (`bulk-worker.ts`): one table of what
 * crosses, so both sides agree. Browser-safe, no imports beyond types.
 */
import type { ArrayView, DecodedFrame, GapMessage } from '@webmon/protocol';
import type { BackoffOptions, ConnectionState } from './client-connection.js';

/** What the worker's own connection is opened with: the page client's options that can cross to a worker. */
export interface BulkStart {
  type: 'start';
  url: string;
  token?: string;
  protocols?: readonly string[];
  window: number;
  chunks?: boolean;
  maxFrameBytes?: number;
  backoff?: BackoffOptions;
  reconnect?: boolean;
  commandTimeoutMs?: number;
}

export type ToBulkWorker =
  | BulkStart
  /** Subscribe (again: a topic subscribed already is resubscribed, which brings its newest value again). */
  | { type: 'subscribe'; topic: string; view?: ArrayView }
  | { type: 'unsubscribe'; topic: string }
  | { type: 'view'; id: number; topic: string; view: ArrayView | null }
  /** The page's handlers are done with this frame: the worker acknowledges it on its connection. */
  | { type: 'handled'; topic: string; seq: number }
  /** A frame's buffer moved back (transferred): the page keeps nothing of it, so the worker's thread frees it. */
  | { type: 'give-back' }
  | { type: 'close' };

export type FromBulkWorker =
  /** A frame, its bytes moved (transferred) to the page. */
  | { type: 'frame'; frame: DecodedFrame; replay: boolean }
  | { type: 'gap'; gap: GapMessage }
  | { type: 'state'; state: ConnectionState }
  | { type: 'error'; code: string; message: string; topic?: string }
  | { type: 'viewed'; id: number; error?: { code: string; message: string } };
