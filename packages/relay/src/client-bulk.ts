/**
 * The page's side of the bulk worker (`RelayClientOptions.bulkWorker`): starts the worker, tells it which
 * binary topics to take, hands each frame it moves back to the client, and sends it the page's
 * "handled". Why a second connection in a worker: a saturating image topic's chunks (hundreds of WebSocket
 * messages a second) otherwise run on the page's main thread, where a small message (`frame_time`) waits
 * behind them; measured in webmon's `bench:image` (fairness).
 */
import type { ArrayView, DecodedFrame, GapMessage } from '@webmon/protocol';
import type { BulkStart, FromBulkWorker, ToBulkWorker } from './client-bulk-protocol.js';

export interface BulkLaneEvents {
  frame(frame: DecodedFrame, replay: boolean): void;
  gap(gap: GapMessage): void;
  /** An error of the worker's connection (its code and message as the client reports them). */
  error(code: string, message: string, topic: string | undefined): void;
  /** The worker cannot serve (it did not load, its first connection was refused, or its connection closed for good): take its topics back. */
  failed(reason: string): void;
}

interface WorkerLike {
  onmessage: ((event: MessageEvent<FromBulkWorker>) => void) | null;
  onerror: ((event: ErrorEvent) => void) | null;
  postMessage(message: ToBulkWorker, transfer?: Transferable[]): void;
  terminate(): void;
}

export class BulkLane {
  /** Topics the worker has been told to take (and not to drop since). */
  readonly topics = new Set<string>();
  private readonly worker: WorkerLike;
  private readonly views = new Map<number, { resolve(): void; reject(error: { code: string; message: string }): void }>();
  private nextView = 1;
  private over = false;
  /**
   * The worker's connection got the server's hello once. After that a drop is the server's (a restart), and
   * the worker reconnects as the page's connection does; before it, a drop means this server will not take a
   * second connection from the page (too many connections, a proxy that allows one), and retrying would
   * leave the worker's topics undelivered for as long as the page lives.
   */
  private opened = false;

  /** Throws what `new Worker` throws (a Content-Security-Policy without the script's origin, say). */
  constructor(script: string | URL, start: Omit<BulkStart, 'type'>, private readonly events: BulkLaneEvents) {
    const WorkerClass = (globalThis as { Worker?: new (url: string | URL, options?: { type?: 'module' | 'classic'; name?: string }) => WorkerLike }).Worker;
    if (WorkerClass === undefined) throw new Error('this environment has no Worker');
    this.worker = new WorkerClass(script, { type: 'module', name: 'webmon relay bulk' });
    this.worker.onmessage = ({ data }) => this.receive(data);
    // A script that does not load (404, CSP) or throws at the top ends up here.
    this.worker.onerror = (event) => {
      event.preventDefault?.();
      this.fail(`the bulk worker failed: ${event.message || `could not load ${String(script)}`}`);
    };
    this.worker.postMessage({ type: 'start', ...start });
  }

  get failed(): boolean {
    return this.over;
  }

  subscribe(topic: string, view: ArrayView | undefined): void {
    this.topics.add(topic);
    this.worker.postMessage({ type: 'subscribe', topic, ...(view === undefined ? {} : { view }) });
  }

  unsubscribe(topic: string): void {
    if (!this.topics.delete(topic)) return;
    this.worker.postMessage({ type: 'unsubscribe', topic });
  }

  setView(topic: string, view: ArrayView | undefined): Promise<void> {
    const id = this.nextView++;
    return new Promise((resolve, reject) => {
      this.views.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'view', id, topic, view: view ?? null });
    });
  }

  handled(topic: string, seq: number): void {
    if (!this.over) this.worker.postMessage({ type: 'handled', topic, seq });
  }

  /**
   * A frame's buffer the page's handlers are done with (`borrowFrames`), moved back to the worker, whose
   * thread then frees it instead of the page's (detached here). A buffer detached meanwhile (moved on, to a
   * render worker say) has nothing to give.
   */
  giveBack(buffer: ArrayBuffer): void {
    if (this.over || buffer.byteLength === 0) return;
    try {
      this.worker.postMessage({ type: 'give-back' }, [buffer]);
    } catch {
      // Not transferable after all (a buffer the page's script detached or pinned): it stays the page's.
    }
  }

  close(): void {
    if (this.over) return;
    this.over = true;
    this.worker.postMessage({ type: 'close' });
    this.rejectViews('RELAY_CLIENT_DISPOSED', 'the client was closed');
  }

  private fail(reason: string): void {
    if (this.over) return;
    this.over = true;
    this.worker.terminate();
    this.rejectViews('RELAY_CLIENT_DISCONNECTED', reason);
    this.events.failed(reason);
  }

  private rejectViews(code: string, message: string): void {
    for (const pending of this.views.values()) pending.reject({ code, message });
    this.views.clear();
  }

  private receive(message: FromBulkWorker): void {
    if (this.over) return;
    switch (message.type) {
      case 'frame':
        this.events.frame(message.frame, message.replay);
        return;
      case 'gap':
        this.events.gap(message.gap);
        return;
      case 'error':
        this.events.error(message.code, message.message, message.topic);
        return;
      case 'state':
        if (message.state === 'open') this.opened = true;
        else if (message.state === 'closed') this.fail('the bulk worker\'s connection closed');
        else if (message.state === 'reconnecting' && !this.opened) this.fail('the bulk worker\'s connection was refused (closed before the server\'s hello)');
        return;
      case 'viewed': {
        const pending = this.views.get(message.id);
        this.views.delete(message.id);
        if (message.error === undefined) pending?.resolve();
        else pending?.reject(message.error);
        return;
      }
    }
  }
}
