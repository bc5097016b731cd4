/**
 * One connected page: what it subscribed to, and how much of the server's memory it may hold.
 *
 * Budget: bytes handed to `ws` but not yet written to the kernel (`inflight`) stay under the high-water
 * mark; above it the peer is "blocked" and new data waits here instead — `latest` topics keep only their
 * newest entry (a shared reference, no copy), `stream` topics a FIFO bounded in count and bytes that drops
 * its oldest entries and reports a gap. The peer unblocks when `inflight` falls to the low-water mark.
 * So a page that stops reading costs at most highWaterMark + one message + the stream queue.
 *
 * Across peers: every peer adds what it holds (in flight + parked) to one shared `BufferPool`; when the
 * sum passes the pool's limit the relay disconnects the peer holding most (`onOverPool`), which then
 * stops counting. So N stalled pages cost at most the pool's limit + one peer's budget, not N budgets.
 *
 * Data frames are written straight to the upgraded TCP socket, pre-framed once per publish (`ws-frame.ts`).
 * That interleaves safely with what `ws` itself writes (pings, pongs, close): without compression `ws`
 * writes each frame synchronously and whole, and we only write while the socket is OPEN.
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { Entry } from './topic.js';
import { textFrame } from './ws-frame.js';

export interface PeerBudget {
  highWaterMark: number;
  lowWaterMark: number;
  maxQueuedMessages: number;
  maxQueuedBytes: number;
  /** Control messages (acks, errors, snapshots) bypass the queue; beyond this the peer is cut off. */
  maxBufferedBytes: number;
}

/** The relay-wide count of bytes held for peers (the sum of every peer's in-flight + parked bytes). */
export interface BufferPool {
  bytes: number;
  readonly maxBytes: number;
}

interface Gap {
  dropped: number;
  fromSeq: number;
  toSeq: number;
}

export interface PeerStats {
  id: string;
  subscriptions: string[];
  /** Bytes handed to the socket that the kernel has not taken yet. */
  inflightBytes: number;
  queuedMessages: number;
  queuedBytes: number;
  /** Stream messages dropped for this peer since it connected. */
  droppedMessages: number;
  /** Latest-topic values this peer skipped because a newer one arrived while it was blocked. */
  skippedLatest: number;
  /** Messages written to the socket. */
  sentMessages: number;
  blocked: boolean;
}

const OPEN = 1;
/** Frames up to this size are gathered per tick and written as one buffer; larger ones are written as they are. */
const BATCH_FRAME_LIMIT = 16 * 1024;

export class Peer {
  readonly subscriptions = new Set<string>();
  alive = true;
  private inflight = 0;
  private blocked = false;
  private queue: Entry[] = [];
  private head = 0;
  private queuedBytes = 0;
  private readonly pendingLatest = new Map<string, Entry>();
  private readonly gaps = new Map<string, Gap>();
  private droppedMessages = 0;
  private skippedLatest = 0;
  private sentMessages = 0;
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private readonly written: Map<number, () => void> = new Map();
  /** Set once the peer leaves the pool (closed, or disconnected for the pool's sake): it counts no more. */
  private detached = false;

  constructor(
    readonly ws: WebSocket,
    private readonly socket: Duplex,
    readonly id: string,
    private readonly budget: PeerBudget,
    private readonly onOverBudget: (peer: Peer) => void,
    private readonly pool: BufferPool = { bytes: 0, maxBytes: Infinity },
    private readonly onOverPool: () => void = () => undefined,
  ) {}

  /** Bytes this peer holds now: in flight to its socket plus parked for it. */
  get heldBytes(): number {
    return this.inflight + this.queuedBytes;
  }

  get isDetached(): boolean {
    return this.detached;
  }

  /** Takes this peer's bytes out of the shared pool for good (it is closing). */
  detach(): void {
    if (this.detached) return;
    this.pool.bytes -= this.heldBytes;
    this.detached = true;
  }

  private account(delta: number): void {
    if (!this.detached) this.pool.bytes += delta;
  }

  /** Delivers a published entry of a subscribed topic, or parks it while the socket is backed up. */
  deliver(entry: Entry, mode: 'latest' | 'stream'): void {
    if (!this.blocked && this.queue.length === this.head && this.gaps.size === 0) {
      this.write(entry);
      return;
    }
    if (mode === 'latest') {
      if (this.pendingLatest.has(entry.topic)) this.skippedLatest += 1;
      this.pendingLatest.set(entry.topic, entry);
      return;
    }
    this.queue.push(entry);
    this.queuedBytes += entry.bytes;
    this.account(entry.bytes);
    while (this.queue.length - this.head > this.budget.maxQueuedMessages || this.queuedBytes > this.budget.maxQueuedBytes) {
      const oldest = this.queue[this.head];
      if (oldest === undefined) break;
      this.queue[this.head] = undefined as unknown as Entry; // release the reference
      this.head += 1;
      this.queuedBytes -= oldest.bytes;
      this.account(-oldest.bytes);
      this.droppedMessages += 1;
      const gap = this.gaps.get(oldest.topic);
      if (gap) {
        gap.dropped += 1;
        gap.toSeq = oldest.seq;
      } else {
        this.gaps.set(oldest.topic, { dropped: 1, fromSeq: oldest.seq, toSeq: oldest.seq });
      }
    }
    this.compact();
    if (this.pool.bytes > this.pool.maxBytes) this.onOverPool();
  }

  /** Sends a control message (hello, ack, error, snapshot…) now, ahead of parked data. */
  sendControl(message: string): void {
    const frame = textFrame(message);
    this.writeBuffer(frame, frame.length);
  }

  /** Sends a frame now (snapshot frames follow their snapshot envelope directly). */
  sendNow(entry: Entry): void {
    this.write(entry);
  }

  /**
   * Closes the connection after writing what is batched for this tick (e.g. a `server.closing` status or
   * the error that explains the close); a peer that ignores the close frame is cut after `graceMs`.
   */
  close(code: number, reason: string, graceMs: number): void {
    this.flushBatch();
    this.ws.close(code, reason);
    setTimeout(() => this.ws.terminate(), graceMs).unref();
  }

  /** Forgets parked data of a topic the page unsubscribed from. */
  forget(topic: string): void {
    this.pendingLatest.delete(topic);
    this.gaps.delete(topic);
  }

  stats(): PeerStats {
    return {
      id: this.id,
      subscriptions: [...this.subscriptions],
      inflightBytes: this.inflight,
      queuedMessages: this.queue.length - this.head + this.pendingLatest.size,
      queuedBytes: this.queuedBytes,
      droppedMessages: this.droppedMessages,
      skippedLatest: this.skippedLatest,
      sentMessages: this.sentMessages,
      blocked: this.blocked,
    };
  }

  private write(entry: Entry): void {
    if (entry.kind === 'json') {
      this.writeBuffer(entry.frame, entry.bytes);
      return;
    }
    if (!this.writable()) return;
    this.flushBatch(); // keep order: small frames batched earlier go first
    this.inflight += entry.bytes;
    this.account(entry.bytes);
    this.sentMessages += 1;
    // One WebSocket frame from two buffers: the (possibly huge) array data is never copied.
    this.socket.cork();
    this.socket.write(entry.prefix);
    this.socket.write(entry.data, this.callbackFor(entry.bytes));
    this.socket.uncork();
    this.afterWrite();
  }

  private writeBuffer(frame: Buffer, bytes: number): void {
    if (!this.writable()) return;
    this.inflight += bytes;
    this.account(bytes);
    this.sentMessages += 1;
    if (frame.length > BATCH_FRAME_LIMIT) {
      this.flushBatch();
      this.socket.write(frame, this.callbackFor(bytes));
    } else {
      // Small frames written in the same tick leave as one buffer in one write: a publisher bursting
      // N messages costs each socket one system call and one stream write, not N of each.
      if (this.batch.length === 0) process.nextTick(this.flushBatch);
      this.batch.push(frame);
      this.batchBytes += bytes;
    }
    this.afterWrite();
  }

  private readonly flushBatch = (): void => {
    if (this.batch.length === 0) return;
    const batch = this.batch;
    const bytes = this.batchBytes;
    this.batch = [];
    this.batchBytes = 0;
    if (!this.writable()) {
      this.inflight -= bytes;
      this.account(-bytes);
      return;
    }
    this.socket.write(batch.length === 1 ? (batch[0] as Buffer) : Buffer.concat(batch, bytes), () => this.onWritten(bytes));
  };

  private writable(): boolean {
    return this.ws.readyState === OPEN && this.socket.writable;
  }

  private afterWrite(): void {
    if (this.inflight >= this.budget.highWaterMark) this.blocked = true;
    if (this.inflight + this.queuedBytes > this.budget.maxBufferedBytes) this.onOverBudget(this);
    else if (this.pool.bytes > this.pool.maxBytes) this.onOverPool();
  }

  /** One callback per distinct size, reused: a closure per message would be garbage at 100k msg/s. */
  private callbackFor(bytes: number): () => void {
    let callback = this.written.get(bytes);
    if (callback === undefined) {
      callback = () => this.onWritten(bytes);
      if (this.written.size < 256) this.written.set(bytes, callback);
    }
    return callback;
  }

  private onWritten(bytes: number): void {
    this.inflight -= bytes;
    this.account(-bytes);
    if (this.blocked && this.inflight <= this.budget.lowWaterMark) {
      this.blocked = false;
      this.flush();
    }
  }

  private flush(): void {
    if (!this.writable()) return;
    for (const [topic, gap] of this.gaps) {
      if (this.blocked) return;
      this.gaps.delete(topic);
      this.sendControl(JSON.stringify({ type: 'gap', topic, dropped: gap.dropped, fromSeq: gap.fromSeq, toSeq: gap.toSeq }));
    }
    while (!this.blocked && this.head < this.queue.length) {
      const entry = this.queue[this.head] as Entry;
      this.queue[this.head] = undefined as unknown as Entry;
      this.head += 1;
      this.queuedBytes -= entry.bytes;
      this.account(-entry.bytes);
      this.write(entry);
    }
    this.compact();
    for (const [topic, entry] of this.pendingLatest) {
      if (this.blocked) return;
      this.pendingLatest.delete(topic);
      this.write(entry);
    }
  }

  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
