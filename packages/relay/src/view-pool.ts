/**
 * Where array views are computed: a small pool of worker threads, so that a 25 ms view of a 1024² frame
 * (400 ms of a 4096² one) does not hold up every other topic on the relay's event loop — `frame_time`,
 * acknowledgements, pings, other pages.
 *
 * Cost on the event loop per computation: one copy of the published value into a SharedArrayBuffer (per
 * value, shared by all of its views and threads; none when the value already lives in one), a
 * postMessage of a few numbers, and the view coming back by transfer (no copy). The threads start at the
 * first view (a relay whose pages ask none never starts one) and are `unref`'d; `close()` terminates them.
 *
 * Failure: a thread that cannot start (or dies) is not replaced; its pending views are computed inline,
 * and when no thread is left every view is (`mode: 'inline'`, with the reason in `failure`). A pool of
 * size 0 computes inline from the start: the relay of 1.3, for a machine where a thread is not worth it.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ViewDType } from '@webmon/protocol';
import { computeView, type ViewPlan, type ViewValues } from './view-math.js';

/** What a thread is asked: the source bytes (shared), their dtype, the plan and the view's dtype. */
export interface ViewRequest {
  id: number;
  source: SharedArrayBuffer | ArrayBuffer;
  byteOffset: number;
  byteLength: number;
  dtype: string;
  plan: ViewPlan;
  out: ViewDType;
}

export type ViewReply =
  | { id: number; ok: true; data: ViewValues['data']; scale: number | undefined; offset: number | undefined; ms: number }
  | { id: number; ok: false; message: string };

/** A view's values and how long computing them took (ms, on the thread that did it). */
export interface ComputedView extends ViewValues {
  ms: number;
  /** True when it was computed on the event loop (pool size 0, or no thread left). */
  inline: boolean;
}

/** The pool's state (`relay.stats().views.pool`). */
export interface ViewPoolStats {
  /** Threads asked for (`viewWorkers`). */
  size: number;
  /** Threads running now (0 before the first view and after `close()`). */
  running: number;
  /** `workers` while at least one thread is there to start or run; `inline` otherwise. */
  mode: 'workers' | 'inline';
  /** Why threads are missing (the first thread error seen), if any. */
  failure?: string;
}

/** One thread per spare core, at most 4; 1 on a machine with 2 cores or fewer. */
export function defaultViewWorkers(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

interface Task {
  request: ViewRequest;
  resolve: (view: ComputedView) => void;
  reject: (error: Error) => void;
}

interface Thread {
  worker: Worker;
  tasks: Map<number, Task>;
  dead: boolean;
}

/** What a thread runs: a module file, or (from the sources) a few lines of code that load it. */
export type WorkerScript = { url: URL } | { code: string };

/**
 * The worker's script: `view-worker.js` beside this module once built. Run from the TypeScript sources
 * (tests, tsx) it is `view-worker.ts`, loaded through tsx's module hooks registered in the thread (tsx is a
 * dev dependency; the built package never takes this path).
 */
function workerScript(): WorkerScript {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return { url: new URL('./view-worker.js', here) };
  const tsxApi = new URL('./dist/esm/api/index.mjs', pathToFileURL(createRequire(here).resolve('tsx/package.json'))).href;
  const worker = new URL('./view-worker.ts', here).href;
  return { code: `import(${JSON.stringify(tsxApi)}).then(({ register }) => { register(); return import(${JSON.stringify(worker)}); })` };
}

export class ViewPool {
  private readonly threads: Thread[] = [];
  private started = false;
  private closed = false;
  private nextId = 1;
  private failure: string | undefined;

  /** @param size threads; 0 computes inline. @param script the worker's script (tests point it elsewhere). */
  constructor(
    readonly size: number,
    private readonly script: () => WorkerScript = workerScript,
  ) {
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`viewWorkers must be a whole number ≥ 0, got ${size}`);
  }

  stats(): ViewPoolStats {
    const running = this.threads.filter((thread) => !thread.dead).length;
    const mode = this.size > 0 && !this.closed && (!this.started || running > 0) ? 'workers' : 'inline';
    return { size: this.size, running, mode, ...(this.failure === undefined ? {} : { failure: this.failure }) };
  }

  /**
   * Computes a view: on a thread (a promise), or inline when there is none (the result itself — the
   * caller then needs no asynchronous path at all).
   */
  compute(source: Uint8Array, dtype: string, plan: ViewPlan, out: ViewDType): ComputedView | Promise<ComputedView> {
    const thread = this.pick();
    if (thread === undefined) return computeInline(source, dtype, plan, out);
    const request: ViewRequest = { id: this.nextId++, source: source.buffer, byteOffset: source.byteOffset, byteLength: source.byteLength, dtype, plan, out };
    return new Promise((resolve, reject) => {
      thread.tasks.set(request.id, { request, resolve, reject });
      thread.worker.postMessage(request);
    });
  }

  /** Terminates every thread (resolves once each has exited); views still being computed are dropped (their promises reject). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.threads.map(async (thread) => {
      for (const task of thread.tasks.values()) task.reject(new Error('the relay closed'));
      thread.tasks.clear();
      await thread.worker.terminate();
      thread.dead = true; // its 'exit' event has fired too
    }));
  }

  /** The live thread with the fewest views in progress; starts the threads at the first call. */
  private pick(): Thread | undefined {
    if (this.size === 0 || this.closed) return undefined;
    if (!this.started) this.start();
    let best: Thread | undefined;
    for (const thread of this.threads) {
      if (!thread.dead && (best === undefined || thread.tasks.size < best.tasks.size)) best = thread;
    }
    return best;
  }

  private start(): void {
    this.started = true;
    for (let i = 0; i < this.size; i++) {
      let worker: Worker;
      try {
        const script = this.script();
        worker = 'url' in script ? new Worker(script.url) : new Worker(script.code, { eval: true });
      } catch (error) {
        this.failure ??= `a view thread could not start: ${(error as Error).message}`;
        continue;
      }
      worker.unref();
      const thread: Thread = { worker, tasks: new Map(), dead: false };
      this.threads.push(thread);
      worker.on('message', (reply: ViewReply) => this.settle(thread, reply));
      worker.on('error', (error) => this.lose(thread, `a view thread failed: ${error.message}`));
      worker.on('exit', (code) => this.lose(thread, `a view thread exited (code ${code})`));
    }
  }

  private settle(thread: Thread, reply: ViewReply): void {
    const task = thread.tasks.get(reply.id);
    if (task === undefined) return;
    thread.tasks.delete(reply.id);
    if (reply.ok) {
      task.resolve({ data: reply.data, ...(reply.scale === undefined ? {} : { scale: reply.scale, offset: reply.offset }), ms: reply.ms, inline: false });
      return;
    }
    // The math threw on the thread: it would throw here too. Say so to the caller.
    task.reject(new Error(reply.message));
  }

  /** A thread is gone: what it had in progress is computed inline, and it gets no more work. */
  private lose(thread: Thread, why: string): void {
    if (thread.dead) return;
    thread.dead = true;
    if (this.closed) return;
    this.failure ??= why;
    for (const task of thread.tasks.values()) {
      const { source, byteOffset, byteLength, dtype, plan, out } = task.request;
      try {
        task.resolve(computeInline(new Uint8Array(source, byteOffset, byteLength), dtype, plan, out));
      } catch (error) {
        task.reject(error as Error);
      }
    }
    thread.tasks.clear();
  }
}

function computeInline(source: Uint8Array, dtype: string, plan: ViewPlan, out: ViewDType): ComputedView {
  const started = performance.now();
  const values = computeView(source, dtype, plan, out);
  return { ...values, ms: performance.now() - started, inline: true };
}
