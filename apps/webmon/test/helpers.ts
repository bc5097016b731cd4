/** Real processes, real sockets, real Chromium: the helpers every app test uses. */
import { afterEach } from 'vitest';
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const APP_DIR = fileURLToPath(new URL('..', import.meta.url));
export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
export const SIMULATOR = fileURLToPath(new URL('../python/napari_simulator.py', import.meta.url));
export const PYTHON = process.env['WEBMON_PYTHON'] ?? 'python3';
/** The test programs that use only the `webmon` Python module. */
export const PYTHON_SCRIPTS = fileURLToPath(new URL('./python/', import.meta.url));

export interface Proc {
  child: ChildProcess;
  /** Everything written so far (stdout and stderr interleaved as received). */
  output(): string;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in the output (waiting for it if needed). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited(timeoutMs?: number): Promise<number | string>;
  /** SIGTERM, then SIGKILL if it is still there after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export function startProcess(command: string, args: string[], options: SpawnOptions = {}): Proc {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], ...options });
  let all = '';
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const wake = (): void => {
    for (const waiter of [...waiters]) waiter();
  };
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    all += chunk;
    wake();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
    all += chunk;
    wake();
  });
  const exit = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  void exit.then(wake);
  return {
    child,
    output: () => all,
    stdout: () => out,
    stderr: () => err,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = all.match(pattern);
          if (match) {
            done();
            resolve(match);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`process exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}; output:\n${all}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}; output:\n${all}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    exited(timeoutMs = 60_000) {
      return Promise.race([
        exit,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`process did not exit within ${timeoutMs} ms; output:\n${all}`)), timeoutMs).unref()),
      ]);
    },
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
}

/** `node dist/cli.js ...args`; resolves once the URL is printed. */
export async function startWebmon(args: string[], options: SpawnOptions = {}): Promise<{ proc: Proc; url: string }> {
  const proc = startProcess(process.execPath, [CLI, ...args], options);
  const match = await proc.waitFor(/webmon: serving (http:\/\/\S+)/, 90_000);
  return { proc, url: match[1] ?? '' };
}

/**
 * `node dist/cli.js run --port 0 ...args` (`args` ends with `-- COMMAND…`). NAPARI_MON_CLIENT is cleared so
 * the program's module attaches through the run, whatever the test runner's environment holds.
 */
export function startWebmonRun(args: string[], options: SpawnOptions = {}): Proc {
  return startProcess(process.execPath, [CLI, 'run', '--port', '0', ...args], { ...options, env: { ...process.env, ...options.env, NAPARI_MON_CLIENT: '' } });
}

/** Debian's Chromium through playwright-core, with the workspace's one set of headless flags. */
export { launchChromium } from '@webmon/test-chromium';

export async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

/** Polls `check` until it returns a value that is not undefined. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Registers an `afterEach` that stops every process handed to the returned `track` during the test, so a
 * failing test leaves nothing running.
 */
export function stopAfterEach(): (proc: Proc) => Proc {
  const running: Proc[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((proc) => proc.stop()));
  });
  return (proc) => {
    running.push(proc);
    return proc;
  };
}
