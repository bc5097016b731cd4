/**
 * Real CPython peers for the tests: finds the interpreters under ~/.pyenv/versions and runs the
 * napari-style fixture server, driven over stdin/stdout JSON lines.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

export interface Interpreter {
  version: string;
  /** [major, minor] */
  minor: number;
  path: string;
}

/** CPython 3.8+ interpreters found in ~/.pyenv/versions, oldest first. */
export function findInterpreters(): Interpreter[] {
  const root = join(homedir(), '.pyenv', 'versions');
  if (!existsSync(root)) return [];
  const found: Interpreter[] = [];
  for (const entry of readdirSync(root)) {
    const match = /^3\.(\d+)\.(\d+)$/.exec(entry);
    if (!match) continue;
    const minor = Number(match[1]);
    const path = join(root, entry, 'bin', 'python3');
    if (minor >= 8 && existsSync(path)) found.push({ version: entry, minor, path });
  }
  return found.sort((a, b) => a.minor - b.minor);
}

/** All interpreters, plus the oldest and newest for the heavy cases. Throws if none (tests must not pass vacuously). */
export function interpreterMatrix(): { all: Interpreter[]; heavy: Interpreter[] } {
  const all = findInterpreters();
  if (all.length === 0) throw new Error('no CPython 3.8+ found in ~/.pyenv/versions: the tests need real interpreters');
  const heavy = all.length === 1 ? all : [all[0]!, all[all.length - 1]!];
  return { all, heavy };
}

export interface ReadyInfo {
  port: number;
  python: string;
  manager_pid: number;
  numpy: boolean;
  shared_list_name: string | null;
  NAPARI_MON_CLIENT: string;
}

export class NapariFixture {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: Record<string, unknown>): void; reject(e: Error): void }>();
  readonly stderr: string[] = [];

  private constructor(
    readonly process: ChildProcessWithoutNullStreams,
    readonly info: ReadyInfo,
  ) {}

  static async start(python: string, env: Record<string, string> = {}): Promise<NapariFixture> {
    const child = spawn(python, [join(FIXTURES, 'napari_like_server.py')], {
      env: { ...process.env, PYTHONUNBUFFERED: '1', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const lines = createInterface({ input: child.stdout });
    const stderr: string[] = [];
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    let fixture: NapariFixture | undefined;
    const info = await new Promise<ReadyInfo>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fixture server did not start: ${stderr.join('')}`)), 30_000);
      child.once('exit', (code) => reject(new Error(`fixture server exited (${code}): ${stderr.join('')}`)));
      lines.on('line', (line) => {
        const message = JSON.parse(line) as Record<string, unknown>;
        if (message['event'] === 'ready') {
          clearTimeout(timer);
          resolve(message as unknown as ReadyInfo);
          return;
        }
        fixture?.settle(message);
      });
    });
    fixture = new NapariFixture(child, info);
    fixture.stderr.push(...stderr);
    child.on('exit', () => {
      for (const { reject } of fixture.pending.values()) reject(new Error(`fixture exited: ${stderr.join('')}`));
      fixture.pending.clear();
    });
    return fixture;
  }

  get port(): number {
    return this.info.port;
  }

  /** Sends one command and waits for its reply; rejects if the fixture reports an error. */
  command(cmd: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.process.stdin.write(`${JSON.stringify({ id, cmd, ...args })}\n`);
    });
  }

  /** SIGKILLs the manager server process (the one our client talks to). */
  killManager(): void {
    try {
      process.kill(this.info.manager_pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  /** Asks the fixture to shut the manager down and exit; kills both processes if that stalls. */
  async stop(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) {
      this.killManager();
      return;
    }
    const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    this.command('exit').catch(() => undefined);
    this.process.stdin.end();
    const timer = setTimeout(() => {
      this.process.kill('SIGKILL');
      this.killManager();
    }, 10_000);
    await exited;
    clearTimeout(timer);
    this.killManager();
  }

  private settle(message: Record<string, unknown>): void {
    const id = message['id'];
    if (typeof id !== 'number') return;
    const waiter = this.pending.get(id);
    if (!waiter) return;
    this.pending.delete(id);
    if (message['ok'] === true) waiter.resolve(message);
    else waiter.reject(new Error(`fixture command failed: ${String(message['error'])}`));
  }
}
