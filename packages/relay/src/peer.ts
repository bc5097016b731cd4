/**
 * One connected page: what it subscribed to, and how much of the server's memory it may hold.
 *
 * Budget: bytes handed to `ws` but not yet written to the kernel (`inflight`) stay under the high-water
 * mark; above it the peer is "blocked" and new data waits here instead — `latest` topics keep only their
 * newest entry (a shared reference, no copy), `stream` topics a FIFO bounded in count and bytes that drops
 * its oldest entries and reports a gap. The peer unblocks when `inflight` falls to the low-water mark.
 * So a page that stops reading costs at most highWaterMark + one message + the stream queue.
 *
 * Credits (protocol 1.2): a page that subscribed to a `latest` topic with a `window` has at most `window`
 * values of it sent and not yet acknowledged (`handled`). Beyond, the newest value waits in the same
 * one-per-topic slot as above and each newer one replaces it — so a page that stops acknowledging holds one
 * pending value per topic (a shared reference) and a few sequence numbers, nothing more. The kernel's socket
 * buffers, which the relay cannot see, then hold at most `window` frames of the topic instead of as many as
 * they fit: that is what keeps a slow page's frames young.
 *
 * Fairness across topics: a small message must not wait behind megabytes. When the peer unblocks, waiting
 * values go out small ones first (latest values up to `SMALL_ENTRY` bytes, then the stream FIFO), then the
 * big latest values one topic after another, in the order they started waiting (a topic just served
 * re-enters at the back). Each big write blocks the peer again (it is above the high-water mark), so what
 * arrives meanwhile waits behind at most the one big frame already handed to the socket — and with a
 * credit window of 1, the kernel holds no other frame of that topic.
 *
 * Across peers: every peer adds what it holds (in flight + parked) to one shared `BufferPool`; when the
 * sum passes the pool's limit the relay disconnects the peer holding most (`onOverPool`), which then
 * stops counting. So N stalled pages cost at most the pool's limit + one peer's budget, not N budgets.
 *
 * Array views (protocol 1.3): a page that asked for a view of a topic gets each of its frames through
 * `views.resolve` at the moment the frame is written — never earlier — so a value replaced while it waited
 * costs no view computation (see `views.ts`). The view is computed on another thread: the frame leaves
 * when it is ready. Meanwhile the topic counts as busy for this page — at most one view per page and topic
 * in the making, newer values wait in the one-per-topic slot as above — so a page never receives an older
 * value after a newer one, and other topics go on meanwhile. A view change drops the view in the making
 * (the page will not get it). What is counted, in the budgets and in the fair order, is the bytes the page
 * is sent: the view's size (estimated from its plan until it is made), not the published frame's.
 *
 * Chunks (protocol 1.5): once a page asks for them (its first `received`), every binary frame bigger than
 * `SMALL_ENTRY` leaves through the "bulk lane" in chunks of at most `chunkBytes` (`@webmon/protocol`'s
 * `chunks.ts`), while everything else goes straight to the socket between them. Chunks leave only while
 * the bytes sent in chunks and not yet confirmed by the page (`received`) stay within `bulkWindowBytes`:
 * Node cannot bound a TCP socket's kernel buffer (no SO_SNDBUF), which holds megabytes, and a small message
 * behind those megabytes waits ~100 ms at the rate a browser reads — with the window it waits behind at
 * most the window. The lane holds frames already due (in order, one at a time, each a shared reference,
 * counted in the budgets like bytes in flight); a big value is not started while the lane is busy — it
 * waits, and coalesces, where it waited before (the one-per-topic slot, the stream FIFO), so the fair
 * order above still picks which big value goes next. A page that never asks gets whole frames (1.4).
 *
 * Data frames are written straight to the upgraded TCP socket, pre-framed once per publish (`ws-frame.ts`).
 * That interleaves safely with what `ws` itself writes (pings, pongs, close): without compression `ws`
 * writes each frame synchronously and whole, and we only write while the socket is OPEN.
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { HeldEntries, holdEntry, letGo, lettingGo } from './frame-hold.js';
import type { Entry, FrameEntry } from './entries.js';
import type { PeerView } from './view-slots.js';
import { CHUNK_HEADER_BYTES, ChunkDefaults, encodeChunkHeader } from '@webmon/protocol';

/** How a peer gets its frames of a topic in the view it asked (the relay's `ViewMaker`, per topic). */
export interface ViewSource {
  /** The frame now, or undefined and `ready(frame)` later (never synchronously). */
  resolve(entry: FrameEntry, view: PeerView, ready: (frame: FrameEntry) => void): FrameEntry | undefined;
  /** The bytes the page will be sent for `entry` in `view`. */
  bytes(entry: FrameEntry, view: PeerView): number;
  /**
   * A value older than `entry` but newer than seq `after` whose view is made or being made, when `entry`'s
   * own view is not even started (it waits its turn behind that one): sending it is sooner, and newer than
   * what the page has.
   */
  sooner?(entry: FrameEntry, view: PeerView, after: number): FrameEntry | undefined;
}

const WHOLE_FRAMES: ViewSource = { resolve: (entry) => entry, bytes: (entry) => entry.bytes };
import { Opcode, frameHeader, textFrame } from './ws-frame.js';

export interface PeerBudget {
  highWaterMark: number;
  lowWaterMark: number;
  maxQueuedMessages: number;
  maxQueuedBytes: number;
  /** Control messages (acks, errors, snapshots) bypass the queue; beyond this the peer is cut off. */
  maxBufferedBytes: number;
  /** (1.5) Largest chunk of a big frame, for a page that asked for chunks. */
  chunkBytes: number;
  /** (1.5) Bytes sent in chunks and not yet confirmed by the page (`received`) beyond which no chunk leaves. */
  bulkWindowBytes: number;
  /** (1.5) The same while small data messages flow to the page (see `bulkWindow`). */
  bulkWindowBesideSmallBytes: number;
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
  /**
   * Latest-topic values this peer never got because a newer one replaced them while they waited: while
   * its socket was backed up, or (credits) while the topic's window was full.
   */
  skippedLatest: number;
  /** Messages written to the socket. */
  sentMessages: number;
  blocked: boolean;
  /** Latest topics delivered with a credit window (the page acknowledges them). */
  windowedTopics: number;
  /** Values of those topics sent and not acknowledged yet (each topic at most its window). */
  unackedMessages: number;
  /** The page acknowledged a value it was never sent (`BAD_ACK`): its windows are gone, its acknowledgements ignored. */
  acksDistrusted: boolean;
  /** Topics this page receives as array views (protocol 1.3). */
  viewedTopics: number;
  /** Views being computed for this page now (at most one per topic): the frame leaves when it is ready. */
  viewsInProgress: number;
  /** (1.5) The page asked for big frames in chunks (`received`). */
  chunked: boolean;
  /** Frames sent to it in chunks (counted in `sentMessages` once each). */
  chunkedFrames: number;
  /** Chunks sent. */
  chunks: number;
  /** Bytes sent in chunks that the page has not confirmed yet: at most `bulkWindowBytes` (or one chunk, if a chunk is bigger). */
  bulkInFlightBytes: number;
  /** The most `bulkInFlightBytes` has been. */
  bulkInFlightMaxBytes: number;
  /** Frames due in chunks and not all sent yet (the bulk lane), with the bytes they have left. */
  laneFrames: number;
  laneBytes: number;
}

/** A frame going out in chunks: the WebSocket message's payload (after the WebSocket header) and how far it went. */
interface LaneFrame {
  frame: FrameEntry;
  /** Bytes of the WebSocket header in `frame.prefix` (what chunks do not carry). */
  skip: number;
  /** The payload's length: webmon prefix + header + data. */
  total: number;
  offset: number;
  number: number;
}

/** What an acknowledgement did: freed values, was out of date (ignored), or named a value never sent. */
export type AckOutcome = 'ok' | 'stale' | 'bogus';

/** Credit state of one `latest` topic subscribed with a window. */
interface Credit {
  window: number;
  /** Seqs sent and not acknowledged, ascending (values of a latest topic leave in publish order). */
  unacked: number[];
  /**
   * Acknowledgements at or below this are stale: already acknowledged (cumulatively), or from before this
   * subscription (a value in flight when the page unsubscribed and subscribed again).
   */
  acked: number;
}

const OPEN = 1;
/** Frames up to this size are gathered per tick and written as one buffer; larger ones are written as they are. */
const BATCH_FRAME_LIMIT = 16 * 1024;
/**
 * Waiting latest values up to this size go out before the stream FIFO and the big values (see fairness
 * above): a number or a small record, not an image. The same bound as batching: both mean "small".
 */
const SMALL_ENTRY = BATCH_FRAME_LIMIT;

export class Peer {
  readonly subscriptions = new Set<string>();
  alive = true;
  private inflight = 0;
  private blocked = false;
  private queue: Entry[] = [];
  private head = 0;
  private queuedBytes = 0;
  /** The newest unsent value of each latest topic that has one waiting (socket backed up, or window full). */
  private readonly pendingLatest = new HeldEntries<string, Entry>();
  /** When a small data message last went to this page (`performance.now()`): the bulk window shrinks meanwhile. */
  private smallSentAt = Number.NEGATIVE_INFINITY;
  private readonly credits = new Map<string, Credit>();
  /** The array view asked for each topic that has one. */
  private readonly views = new Map<string, PeerView>();
  /** Topics whose view is being computed for this page, with a token naming that computation. */
  private readonly computing = new Map<string, object>();
  /** Per latest topic, the seq of the value sent last (a value sent sooner must be newer than it). */
  private readonly lastSent = new Map<string, number>();
  private acksDistrusted = false;
  private readonly gaps = new Map<string, Gap>();
  private droppedMessages = 0;
  private skippedLatest = 0;
  private sentMessages = 0;
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private readonly written: Map<number, () => void> = new Map();
  /** Set once the peer leaves the pool (closed, or disconnected for the pool's sake): it counts no more. */
  private detached = false;
  /** (1.5) The page asked for chunks. */
  private chunked = false;
  private lane: LaneFrame[] = [];
  private laneHead = 0;
  /** Bytes of lane frames not written yet (held, like bytes in flight). */
  private laneBytes = 0;
  private bulkSent = 0;
  private bulkConfirmed = 0;
  private bulkInFlightMax = 0;
  private nextChunkedFrame = 0;
  private chunkedFrames = 0;
  private chunks = 0;
  private flushScheduled = false;

  constructor(
    readonly ws: WebSocket,
    private readonly socket: Duplex,
    readonly id: string,
    private readonly budget: PeerBudget,
    private readonly onOverBudget: (peer: Peer) => void,
    private readonly pool: BufferPool = { bytes: 0, maxBytes: Infinity },
    private readonly onOverPool: () => void = () => undefined,
    private readonly viewSource: ViewSource = WHOLE_FRAMES,
  ) {}

  /** Bytes this peer holds now: in flight to its socket plus parked for it. */
  get heldBytes(): number {
    return this.inflight + this.queuedBytes + this.laneBytes;
  }

  get isDetached(): boolean {
    return this.detached;
  }

  /** Takes this peer's bytes out of the shared pool for good (it is closing). */
  detach(): void {
    if (this.detached) return;
    this.pool.bytes -= this.heldBytes;
    this.detached = true;
    // Nothing parked here will be sent any more: the frames' buffers go back to their producers (writes
    // the socket has not finished still hold theirs until their callbacks).
    this.pendingLatest.clear();
    this.letGoOfQueue();
    this.letGoOfLane();
  }

  private account(delta: number): void {
    if (!this.detached) this.pool.bytes += delta;
  }

  /** Delivers a published entry of a subscribed topic, or parks it while the socket is backed up (or, latest, its window is full). */
  deliver(entry: Entry, mode: 'latest' | 'stream'): void {
    if (mode === 'latest') {
      const credit = this.credits.get(entry.topic);
      if (this.pendingLatest.has(entry.topic)) this.skippedLatest += 1;
      if (this.free(entry) && this.canSend(entry.topic, credit)) {
        this.pendingLatest.delete(entry.topic);
        this.sendLatest(entry, credit);
      } else {
        this.pendingLatest.set(entry.topic, entry);
      }
      return;
    }
    if (this.free(entry) && this.queue.length === this.head && this.gaps.size === 0) {
      this.write(entry);
      return;
    }
    holdEntry(entry);
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
      letGo(oldest);
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
    this.lastSent.set(entry.topic, entry.seq);
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

  /** Forgets parked data (and the credit window, and the view) of a topic the page unsubscribed from. */
  forget(topic: string): void {
    this.pendingLatest.delete(topic);
    this.gaps.delete(topic);
    this.credits.delete(topic);
    this.views.delete(topic);
    this.computing.delete(topic);
    this.lastSent.delete(topic);
  }

  /** The array view this page asks of `topic`, if any. */
  viewOf(topic: string): PeerView | undefined {
    return this.views.get(topic);
  }

  /** The view of a topic just subscribed (before its snapshot is sent, so the snapshot comes in the view). */
  useView(topic: string, view: PeerView): void {
    this.views.set(topic, view);
  }

  /**
   * The page changed the view of a subscribed `latest` topic (`undefined`: whole frames again). Unless the
   * view is the one it has, the topic's newest value (`latest`) goes out again in the new view — at once if
   * the socket and window allow, else it waits as any value does — so a page that zooms sees the result
   * without waiting for the producer. The credit window starts over: the value re-sent is the only one
   * counted, acknowledgements of frames still on their way in the old view (`nextSeq`: the seq the topic's
   * next value gets, when there is no value yet) are stale and ignored. So while a view changes, a page may
   * have one old frame in flight beyond its window.
   */
  setView(topic: string, view: PeerView | undefined, latest: Entry | undefined, nextSeq: number): void {
    if (this.views.get(topic)?.key === view?.key) return;
    if (view === undefined) this.views.delete(topic);
    else this.views.set(topic, view);
    this.computing.delete(topic); // a view in the making for the old view is dropped when it comes
    const credit = this.credits.get(topic);
    if (credit !== undefined) {
      credit.unacked = [];
      credit.acked = (latest?.seq ?? nextSeq) - 1;
    }
    if (latest === undefined) return;
    if (this.free(latest) && this.canSend(topic, credit)) {
      this.pendingLatest.delete(topic);
      this.sendLatest(latest, credit);
    } else {
      this.pendingLatest.set(topic, latest);
    }
  }

  /**
   * Starts credit-based delivery of a latest topic just subscribed with `window`. `nextSeq` is the seq the
   * topic's next value will get; `snapshotSeqs` the seqs of the values its snapshot carries, ascending (one,
   * or with `replayMs` (1.5) the values of the window): all count as in flight, so the page may acknowledge
   * them one by one or only the newest (cumulative), and none of them is `BAD_ACK`. Nothing newer is sent
   * until the window has room again: a page acknowledges the snapshot's newest item once it has handled it.
   * Does nothing for a peer whose acknowledgements are distrusted.
   */
  openWindow(topic: string, window: number, nextSeq: number, snapshotSeqs: readonly number[]): void {
    if (this.acksDistrusted) return;
    this.credits.set(topic, {
      window,
      unacked: [...snapshotSeqs],
      acked: (snapshotSeqs[0] ?? nextSeq) - 1,
    });
  }

  /**
   * A new session on this connection (`relay.restartSession`): every subscription ends, and what waits for
   * the page — parked values, queued stream messages, gaps, credit windows, views in the making — is
   * dropped (frames going out in chunks, 1.5, included). What was already handed to the socket still
   * arrives, before the new `hello`. Whether its
   * acknowledgements are trusted is a fact about the page, not the session: that stays.
   */
  reset(): void {
    this.subscriptions.clear();
    this.account(-this.queuedBytes);
    this.letGoOfQueue();
    this.queuedBytes = 0;
    this.pendingLatest.clear();
    this.credits.clear();
    this.views.clear();
    this.computing.clear();
    this.gaps.clear();
    this.lastSent.clear();
    // Frames due in chunks and not all sent are dropped too (the new hello must not wait behind them): the
    // page drops a frame it got only part of when the next frame's first chunk comes. Receipts count on.
    this.account(-this.laneBytes);
    this.letGoOfLane();
    this.laneBytes = 0;
  }

  private letGoOfQueue(): void {
    const queue = this.queue;
    const head = this.head;
    this.queue = [];
    this.head = 0;
    for (let i = head; i < queue.length; i++) letGo(queue[i]);
  }

  /** Frames of the lane not all written: what was written still holds them until its callback. */
  private letGoOfLane(): void {
    const lane = this.lane;
    const head = this.laneHead;
    this.lane = [];
    this.laneHead = 0;
    for (let i = head; i < lane.length; i++) letGo(lane[i]?.frame);
  }

  /**
   * The page handled `seq` of `topic` and everything before it. Frees the window and sends the waiting
   * value if there is room. `stale`: nothing to do (a repeat, a late one, a topic without window or no
   * longer subscribed); `bogus`: a seq this subscription never sent (ahead of what was sent, or skipped).
   */
  acknowledge(topic: string, seq: number): AckOutcome {
    const credit = this.credits.get(topic);
    if (credit === undefined) return 'stale';
    const index = credit.unacked.indexOf(seq);
    if (index < 0) return seq <= credit.acked ? 'stale' : 'bogus';
    credit.unacked.splice(0, index + 1);
    credit.acked = seq;
    const waiting = this.pendingLatest.get(topic);
    if (waiting !== undefined && this.free(waiting) && !this.computing.has(topic)) {
      this.pendingLatest.delete(topic);
      this.sendLatest(waiting, credit);
    }
    return 'ok';
  }

  /**
   * Stops trusting this page's acknowledgements (it acknowledged a value it was never sent): every window
   * closes for good on this connection and its topics fall back to unacknowledged delivery — still within
   * the byte budgets above, so a lying page gains nothing it could not have by not acknowledging at all.
   */
  distrust(): void {
    this.acksDistrusted = true;
    this.credits.clear();
    if (!this.blocked) this.flush();
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
      windowedTopics: this.credits.size,
      unackedMessages: [...this.credits.values()].reduce((sum, credit) => sum + credit.unacked.length, 0),
      acksDistrusted: this.acksDistrusted,
      viewedTopics: this.views.size,
      viewsInProgress: this.computing.size,
      chunked: this.chunked,
      chunkedFrames: this.chunkedFrames,
      chunks: this.chunks,
      bulkInFlightBytes: this.bulkSent - this.bulkConfirmed,
      bulkInFlightMaxBytes: this.bulkInFlightMax,
      laneFrames: this.lane.length - this.laneHead,
      laneBytes: this.laneBytes,
    };
  }

  private sendLatest(entry: Entry, credit: Credit | undefined): void {
    // Views computed ahead: when the newest value's view is not started yet but an older one's (still newer
    // than what the page has) is made or in the making, that one goes now and the newest waits on.
    const view = entry.kind === 'frame' ? this.views.get(entry.topic) : undefined;
    const after = this.lastSent.get(entry.topic);
    const sooner = view === undefined || after === undefined || entry.kind !== 'frame' ? undefined : this.viewSource.sooner?.(entry, view, after);
    const sent = sooner ?? entry;
    this.lastSent.set(sent.topic, sent.seq);
    this.write(sent);
    credit?.unacked.push(sent.seq);
    if (sooner !== undefined && !this.pendingLatest.has(entry.topic)) this.pendingLatest.set(entry.topic, entry);
  }

  private write(entry: Entry): void {
    if (entry.kind === 'json') {
      this.smallSentAt = performance.now();
      this.writeBuffer(entry.frame, entry.bytes);
      return;
    }
    if (!this.writable()) return;
    // The page's view of the frame is made now, when it can leave (or taken from the topic's cache).
    const view = this.views.get(entry.topic);
    if (view === undefined) {
      this.writeFrame(entry);
      return;
    }
    const token = {};
    const frame = this.viewSource.resolve(entry, view, (made) => this.viewReady(entry.topic, token, made));
    if (frame !== undefined) this.writeFrame(frame);
    else this.computing.set(entry.topic, token);
  }

  /**
   * A view computed for this page is ready: it leaves now (even if the socket backed up meanwhile: it was
   * due when it was started), unless the page changed its view or unsubscribed since. Then the topic's
   * next value, if one waits and has credit, follows.
   */
  private viewReady(topic: string, token: object, frame: FrameEntry): void {
    if (this.computing.get(topic) !== token) return;
    this.computing.delete(topic);
    if (!this.writable()) return;
    this.writeFrame(frame);
    const waiting = this.pendingLatest.get(topic);
    const credit = this.credits.get(topic);
    if (waiting !== undefined && this.free(waiting) && hasRoom(credit)) {
      this.pendingLatest.delete(topic);
      this.sendLatest(waiting, credit);
    }
  }

  /** What this page is sent for `entry`, in bytes: its view's size when it has a view of that topic. */
  private bytesOf(entry: Entry): number {
    if (entry.kind === 'json') return entry.bytes;
    const view = this.views.get(entry.topic);
    return view === undefined ? entry.bytes : this.viewSource.bytes(entry, view);
  }

  private canSend(topic: string, credit: Credit | undefined): boolean {
    return !this.computing.has(topic) && hasRoom(credit);
  }

  private writeFrame(frame: FrameEntry): void {
    if (this.chunked && frame.bytes > SMALL_ENTRY) {
      this.enqueueChunks(frame);
      return;
    }
    this.flushBatch(); // keep order: small frames batched earlier go first
    if (frame.bytes <= SMALL_ENTRY) this.smallSentAt = performance.now();
    this.inflight += frame.bytes;
    this.account(frame.bytes);
    this.sentMessages += 1;
    // One WebSocket frame from two buffers: the (possibly huge) array data is never copied.
    this.socket.cork();
    this.socket.write(frame.prefix);
    this.socket.write(frame.data, lettingGo(frame, this.callbackFor(frame.bytes)));
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
    if (this.heldBytes > this.budget.maxBufferedBytes) this.onOverBudget(this);
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

  /** Sends what waits, in the order described at the top (fairness): gaps, small values, the stream FIFO, big values. */
  private flush(): void {
    if (!this.writable()) return;
    for (const [topic, gap] of this.gaps) {
      if (this.blocked) return;
      this.gaps.delete(topic);
      this.sendControl(JSON.stringify({ type: 'gap', topic, dropped: gap.dropped, fromSeq: gap.fromSeq, toSeq: gap.toSeq }));
    }
    if (!this.flushLatest(true)) return;
    while (!this.blocked && this.head < this.queue.length) {
      const entry = this.queue[this.head] as Entry;
      if (!this.free(entry)) break; // a big one waits for the lane; the stream keeps its order
      this.queue[this.head] = undefined as unknown as Entry;
      this.head += 1;
      this.queuedBytes -= entry.bytes;
      this.account(-entry.bytes);
      this.write(entry);
      letGo(entry); // after the write, which holds it until the socket has it
    }
    this.compact();
    this.flushLatest(false);
    this.pumpLane();
  }

  /**
   * Sends the waiting latest values that have credit, small ones or big ones, in the order they started
   * waiting; false once the peer is blocked again. A topic sent leaves the map, so its next value queues
   * up behind the others: round-robin among big topics.
   */
  private flushLatest(small: boolean): boolean {
    for (const [topic, entry] of this.pendingLatest) {
      if (this.blocked) return false;
      if ((this.bytesOf(entry) <= SMALL_ENTRY) !== small) continue;
      const credit = this.credits.get(topic);
      if (!this.canSend(topic, credit) || !this.free(entry)) continue;
      this.pendingLatest.delete(topic);
      this.sendLatest(entry, credit);
    }
    return !this.blocked;
  }

  /**
   * (1.5) The page asks for chunks (its first `received`), or confirms the bytes it received in chunks so
   * far (cumulative). Frees the bulk window; a count above what was sent counts as all of it (a page that
   * lies only fills its own socket, within the budgets). `stale`: it confirmed nothing new.
   */
  received(bytes: number): 'ok' | 'stale' {
    if (!this.chunked) {
      this.chunked = true;
      return 'ok';
    }
    const confirmed = Math.min(bytes, this.bulkSent);
    if (confirmed <= this.bulkConfirmed) return 'stale';
    this.bulkConfirmed = confirmed;
    this.pumpLane();
    return 'ok';
  }

  /** A value may be written now: the socket is not backed up, and a big one finds the bulk lane free. */
  private free(entry: Entry): boolean {
    if (this.blocked) return false;
    return !this.chunked || this.laneHead === this.lane.length || this.bytesOf(entry) <= SMALL_ENTRY;
  }

  /** A big frame is due: it joins the bulk lane and leaves in chunks as the window allows. */
  private enqueueChunks(frame: FrameEntry): void {
    // The WebSocket header's size, from its length byte (127: 8-byte length, 126: 2-byte, else none).
    const code = (frame.prefix[1] as number) & 0x7f;
    const skip = code === 127 ? 10 : code === 126 ? 4 : 2;
    const total = frame.bytes - skip;
    holdEntry(frame);
    this.lane.push({ frame, skip, total, offset: 0, number: this.nextChunkedFrame });
    this.nextChunkedFrame = (this.nextChunkedFrame + 1) >>> 0;
    this.laneBytes += total;
    this.account(total);
    this.sentMessages += 1;
    this.chunkedFrames += 1;
    this.pumpLane();
    this.afterWrite();
  }

  /**
   * Writes chunks of the lane's frames while the bulk window has room (and at least one chunk always, when
   * nothing is in flight, whatever the sizes). When the lane empties, the big values waiting go next.
   */
  private pumpLane(): void {
    let finished = false;
    const besideSmall = performance.now() - this.smallSentAt < ChunkDefaults.smallTrafficMs;
    const window = besideSmall ? Math.min(this.budget.bulkWindowBytes, this.budget.bulkWindowBesideSmallBytes) : this.budget.bulkWindowBytes;
    // Beside small messages, one chunk of the whole window in flight. Each chunk costs the page a message
    // and a confirmation from its main thread, and that count, not the wait for confirmations, is what held
    // up its small messages: with a 128 KiB window in 32 KiB chunks the page handled ~5 800 messages a
    // second, its main thread was late by up to 17–23 ms, and `frame_time` p99 was 2.4–4× its p99 without
    // the image, the image at 42–44 Hz. In one 128 KiB chunk: 1.44–1.54×, and the image at 52–55 Hz
    // (bench:image fairness, interleaved runs, 2026-12-06).
    const chunkBytes = besideSmall ? Math.min(this.budget.chunkBytes, Math.max(1024, window)) : this.budget.chunkBytes;
    while (this.laneHead < this.lane.length && !this.blocked && this.writable()) {
      const item = this.lane[this.laneHead] as LaneFrame;
      const inFlight = this.bulkSent - this.bulkConfirmed;
      const size = Math.min(chunkBytes, item.total - item.offset);
      if (inFlight > 0 && inFlight + size > window) break;
      this.writeChunk(item, size);
      if (item.offset === item.total) {
        this.lane[this.laneHead] = undefined as unknown as LaneFrame; // release the reference
        this.laneHead += 1;
        letGo(item.frame); // its last chunk's write holds it until the socket has it
        finished = true;
      }
    }
    if (this.laneHead === this.lane.length && this.laneHead > 0) {
      this.lane = [];
      this.laneHead = 0;
    }
    if (finished && this.laneHead === this.lane.length && !this.flushScheduled) {
      // Not from here (this may run inside a flush or a write): the waiting big values go on the next tick.
      this.flushScheduled = true;
      process.nextTick(() => {
        this.flushScheduled = false;
        if (!this.blocked) this.flush();
      });
    }
  }

  /** One chunk: WebSocket header, chunk header, then the bytes — slices of the frame's buffers, never copied. */
  private writeChunk(item: LaneFrame, size: number): void {
    this.flushBatch(); // keep order: small frames batched earlier go first
    const { frame, skip } = item;
    const webmon = frame.prefix.length - skip; // webmon prefix + header bytes at the payload's start
    const start = item.offset;
    const end = start + size;
    const header = encodeChunkHeader({ frame: item.number, offset: start, total: item.total });
    const wsHeader = frameHeader(Opcode.BINARY, CHUNK_HEADER_BYTES + size);
    const wire = wsHeader.length + CHUNK_HEADER_BYTES + size;
    item.offset = end;
    this.laneBytes -= size;
    this.account(wire - size);
    this.inflight += wire;
    this.bulkSent += size;
    this.bulkInFlightMax = Math.max(this.bulkInFlightMax, this.bulkSent - this.bulkConfirmed);
    this.chunks += 1;
    const parts: Uint8Array[] = [wsHeader, header];
    if (start < webmon) parts.push(frame.prefix.subarray(skip + start, skip + Math.min(webmon, end)));
    if (end > webmon) parts.push(frame.data.subarray(Math.max(0, start - webmon), end - webmon));
    this.socket.cork();
    for (let i = 0; i < parts.length - 1; i++) this.socket.write(parts[i]);
    // The last write carries the callback (and the hold on the frame's buffer: writes finish in order).
    this.socket.write(parts[parts.length - 1], lettingGo(frame, this.callbackFor(wire)));
    this.socket.uncork();
    if (this.inflight >= this.budget.highWaterMark) this.blocked = true;
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

function hasRoom(credit: Credit | undefined): boolean {
  return credit === undefined || credit.unacked.length < credit.window;
}
