/** Starts a benchmark client process and wraps its IPC. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildReport, ClientKind } from './clients.js';

export interface ClientProcess {
  child: ChildProcess;
  progress: { minReceived: number; totalReceived: number; bytes: number };
  /** Resolves when the next progress report satisfies `check`. */
  until(check: (progress: ClientProcess['progress']) => boolean): Promise<void>;
  /** Starts the client process's CPU accounting. */
  mark(): void;
  /** CPU time of the client process since `mark`, µs. */
  cpu(): Promise<number>;
  /** Starts latency sampling afresh. */
  startLatency(): void;
  finish(): Promise<{ p50: number; p99: number; samples: number }>;
}

export async function startClients(kind: ClientKind, url: string, count: number, topic?: string): Promise<ClientProcess> {
  const script = fileURLToPath(new URL('./clients.ts', import.meta.url));
  const child = fork(script, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const progress = { minReceived: 0, totalReceived: 0, bytes: 0 };
  const waiters = new Set<{ check: (p: typeof progress) => boolean; resolve: () => void }>();
  let done: ((value: { p50: number; p99: number; samples: number }) => void) | undefined;
  let cpu: ((value: number) => void) | undefined;
  let ready: (() => void) | undefined;
  child.on('message', (report: ChildReport) => {
    if (report.type === 'ready') ready?.();
    else if (report.type === 'progress') {
      Object.assign(progress, report);
      for (const waiter of waiters) {
        if (waiter.check(progress)) {
          waiters.delete(waiter);
          waiter.resolve();
        }
      }
    } else if (report.type === 'cpu') cpu?.(report.cpuMicros);
    else done?.(report.latencies);
  });
  await new Promise<void>((resolve, reject) => {
    ready = resolve;
    child.once('exit', (code) => reject(new Error(`client process exited with ${code}`)));
    child.send({ cmd: 'connect', kind, url, count, topic });
  });
  return {
    child,
    progress,
    until: (check) => (check(progress) ? Promise.resolve() : new Promise((resolve) => waiters.add({ check, resolve }))),
    mark: () => child.send({ cmd: 'mark' }),
    cpu: () => new Promise((resolve) => {
      cpu = resolve;
      child.send({ cmd: 'cpu' });
    }),
    startLatency: () => child.send({ cmd: 'latency' }),
    finish: () => new Promise((resolve) => {
      done = resolve;
      child.send({ cmd: 'finish' });
    }),
  };
}
