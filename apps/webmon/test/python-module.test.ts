/**
 * The `webmon` Python module with the real app: CPython 3.9 and 3.13 (without numpy) and 3.11 (with
 * numpy), `webmon run`, real sockets and shared memory, a relay client in Node reading what a page reads.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRelayClient, type RelayClient, type WebSocketConstructor } from '@webmon/relay/client';
import WebSocket from 'ws';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CLI, PYTHON_SCRIPTS, eventually, getJson, startProcess, startWebmonRun, type Proc } from './helpers.js';
import { interpreterFor, type Interpreter } from './pythons.js';

const SCRIPTS = PYTHON_SCRIPTS;
const work = mkdtempSync(join(tmpdir(), 'webmon-pymodule-'));
const running: Proc[] = [];
const clients: RelayClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(running.splice(0).map((proc) => proc.stop()));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function webmonRun(args: string[], cwd = work): Proc {
  const proc = startWebmonRun(args, { cwd });
  running.push(proc);
  return proc;
}

function relayClient(url: string): RelayClient {
  const client = createRelayClient({ url: `${url.replace(/^http/, 'ws')}ws`, WebSocket: WebSocket as unknown as WebSocketConstructor });
  clients.push(client);
  return client;
}

function shmNames(): Set<string> {
  return new Set(readdirSync('/dev/shm'));
}

const pythonPath = (): string => spawnSync(process.execPath, [CLI, 'python-path'], { encoding: 'utf8' }).stdout.trim();

describe('webmon python-path', () => {
  it('prints a folder that makes the module and its ring writer importable', () => {
    const folder = pythonPath();
    expect(existsSync(join(folder, 'webmon', '__init__.py'))).toBe(true);
    const python = interpreterFor(13);
    const result = spawnSync(python.command, ['-c', 'import webmon; print(webmon.monitor.active, webmon.RingWriter.__name__)'], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: folder } });
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('False RingWriter');
    expect(spawnSync(process.execPath, [CLI, 'python-path', 'extra'], { encoding: 'utf8' }).status).toBe(2);
  });

  it('keeps its promises about values: no-ops before start, conversions with a warning, typed refusals', () => {
    const result = spawnSync(interpreterFor(9).command, [join(SCRIPTS, 'module_checks.py')], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: pythonPath() } });
    expect(result.stderr).toBe('');
    const out = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(out['before']).toEqual([null, null, null, null]);
    expect(out['refused']).toEqual({
      object: ['WEBMON_PY_NOT_JSON', 'a'],
      bytes: ['WEBMON_PY_NOT_JSON', 'b'],
      cycle: ['WEBMON_PY_CYCLE', 'c[0]'],
      deep: ['WEBMON_PY_TOO_DEEP', expect.stringMatching(/^(\[0\]){64}$/)],
      huge_string: ['WEBMON_PY_TOO_LARGE', 's'],
      bad_key: ['WEBMON_PY_NOT_JSON', ''],
    });
    expect(out['converted']).toEqual({ nan: null, inf: null, set: [1, 2, 3], tuple: [1, 'a'], '5': 'int key', ok: true });
    expect(out['warnings']).toEqual(['WebmonWarning']);
  });
});

describe('webmon run', () => {
  const cases: [string, () => Interpreter][] = [
    ['3.9 without numpy', () => interpreterFor(9, false)],
    ['3.11 with numpy', () => interpreterFor(11, true)],
    ['3.13 without numpy', () => interpreterFor(13, false)],
  ];
  for (const [label, python] of cases) {
    it(`serves a latest value, a stream and an image from a program using only the module (${label}), and exits with its status`, async () => {
      const done = join(work, `done-${label.replace(/\W/g, '')}`);
      const proc = webmonRun(['--', python().command, join(SCRIPTS, 'module_demo.py'), done]);
      const url = (await proc.waitFor(/webmon: serving (http:\/\/\S+)/))[1]!;
      await proc.waitFor(/topics module_demo\.\*/);
      const client = relayClient(url);
      const training: unknown[] = [];
      const losses: { step: number; value: number }[] = [];
      const frames: { shape: number[]; first: number; step: unknown }[] = [];
      client.subscribe('module_demo.data.training', (event) => void (event.kind === 'data' && training.push(event.payload)));
      client.subscribe('module_demo.message.loss', (event) => void (event.kind === 'data' && losses.push(event.payload as { step: number; value: number })));
      client.subscribe('module_demo.camera', (event) => {
        if (event.kind !== 'frame' || !(event.frame.data instanceof Float32Array)) return;
        const meta = event.frame.meta as { step?: unknown } | undefined;
        frames.push({ shape: [...event.frame.shape], first: event.frame.data[0]!, step: meta?.step });
        expect(event.frame.data[17]! - event.frame.data[0]!).toBe(17);
      });
      await eventually(() => (training.length > 0 && losses.length >= 5 && frames.length >= 2 ? true : undefined), 60_000, 'data on all three topics');
      expect(training[0]).toEqual({ epoch: 3, numpy: python().hasNumpy, python: `${python().version[0]}.${python().version[1]}` });
      for (const loss of losses) expect(loss.value).toBeCloseTo(1 / (loss.step + 1), 12);
      const frame = frames.at(-1)!;
      expect(frame.shape).toEqual([12, 16]);
      expect(frame.first).toBe(frame.step); // pixel (0, 0) is the step the metadata names
      writeFileSync(done, '');
      expect(await proc.exited(60_000)).toBe(7);
    });
  }

  it('shows two programs as two sources and keeps one that left as disconnected', async () => {
    const done = join(work, 'done-two');
    const python = interpreterFor(13).command;
    const demo = join(SCRIPTS, 'module_demo.py');
    // Two programs of the run (the same script twice): prefixes module_demo and module_demo2.
    const proc = webmonRun(['--', 'sh', '-c', `"$0" "$1" "$2.first" & "$0" "$1" "$2"; wait`, python, demo, done]);
    const url = (await proc.waitFor(/webmon: serving (http:\/\/\S+)/))[1]!;
    type Status = { sources: { prefix: string; state: string; pid?: number }[] };
    const both = await eventually(async () => {
      const status = (await getJson(`${url}api/status`)) as Status;
      return status.sources.length === 2 && status.sources.every((source) => source.state === 'connected') ? status : undefined;
    }, 60_000, 'two sources connected');
    expect(both.sources.map((source) => source.prefix).sort()).toEqual(['module_demo', 'module_demo2']);
    writeFileSync(`${done}.first`, '');
    const after = await eventually(async () => {
      const status = (await getJson(`${url}api/status`)) as Status;
      return status.sources.some((source) => source.state === 'disconnected') ? status : undefined;
    }, 60_000, 'one source gone');
    expect(after.sources.map((source) => source.state).sort()).toEqual(['connected', 'disconnected']);
    // The log says what webmon does then: it serves on (until the run's program exits), not that it exits.
    await proc.waitFor(/program module_demo2? \(pid \d+\) [^\n]*; serving on until the program of this run exits/, 30_000);
    expect(proc.output()).not.toMatch(/; exiting/);
    writeFileSync(done, '');
    expect(await proc.exited(60_000)).toBe(0); // sh's status: wait's
  });

  it('refuses bad values in the program, and webmon keeps serving the good ones', async () => {
    const done = join(work, 'done-bad');
    const proc = webmonRun(['--', interpreterFor(9).command, join(SCRIPTS, 'module_bad_values.py'), done]);
    const url = (await proc.waitFor(/webmon: serving (http:\/\/\S+)/))[1]!;
    const codes = JSON.parse((await proc.waitFor(/codes (\[.*\])/))[1]!) as string[];
    expect(codes).toEqual(['WEBMON_PY_NOT_JSON', 'WEBMON_PY_NOT_JSON', 'WEBMON_PY_NOT_JSON', 'WEBMON_PY_NOT_JSON', 'WEBMON_PY_TOO_LARGE', 'WEBMON_PY_TOO_LARGE']);
    const client = relayClient(url);
    const steps: number[] = [];
    const nan: unknown[] = [];
    client.subscribe('bad.data.good', (event) => void (event.kind === 'data' && steps.push((event.payload as { step: number }).step)));
    client.subscribe('bad.data.nan', (event) => void (event.kind === 'data' && nan.push(event.payload)));
    await eventually(() => (steps.length >= 5 && nan.length > 0 ? true : undefined), 60_000, 'good values flowing');
    expect(nan[0]).toEqual({ value: null });
    const status = (await getJson(`${url}api/status`)) as { sources: { counters: { invalid: number } }[] };
    expect(status.sources[0]?.counters.invalid).toBe(0); // nothing bad reached webmon
    writeFileSync(done, '');
    expect(await proc.exited(60_000)).toBe(0);
  });

  it('drops the oldest messages of a burst beyond the queue, and counts them where a page sees them', async () => {
    const done = join(work, 'done-flood');
    const proc = webmonRun(['--', interpreterFor(13).command, join(SCRIPTS, 'module_flood.py'), done]);
    const url = (await proc.waitFor(/webmon: serving (http:\/\/\S+)/))[1]!;
    const dropped = Number((await proc.waitFor(/sent 20000 in [\d.]+ s, dropped (\d+)/))[1]);
    expect(dropped).toBeGreaterThan(0); // 20,000 at once into a queue of 100
    const client = relayClient(url);
    const counted: number[] = [];
    client.subscribe('flood.data.webmon_dropped', (event) => void (event.kind === 'data' && counted.push((event.payload as { messages: number }).messages)));
    await eventually(() => (counted.at(-1) === dropped ? true : undefined), 60_000, 'the drop count on its topic');
    // Everything not dropped reached webmon, in order: the last message is the last one sent.
    const status = await eventually(async () => {
      const now = (await getJson(`${url}api/status`)) as { sources: { counters: { otherMessages: number } }[] };
      return now.sources[0]?.counters.otherMessages === 20000 - dropped ? now : undefined;
    }, 60_000, 'every kept message delivered');
    expect(status.sources).toHaveLength(1);
    writeFileSync(done, '');
    expect(await proc.exited(60_000)).toBe(0);
  });

  it('passes on a signal as 128+n, and says why a program cannot run', async () => {
    const proc = webmonRun(['--', 'sh', '-c', 'kill -9 $$']);
    expect(await proc.exited(60_000)).toBe(137);
    const missing = webmonRun(['--', join(work, 'no-such-program')]);
    expect(await missing.exited(60_000)).toBe(127);
    expect(missing.stderr()).toMatch(/WEBMON_RUN_FAILED/);
    const usage = webmonRun([]);
    expect(await usage.exited(60_000)).toBe(2);
    expect(usage.stderr()).toMatch(/WEBMON_BAD_ARGUMENT.*needs the program after --/);
  });

  it('refuses an attach without the run secret', async () => {
    const done = join(work, 'done-secret');
    const proc = webmonRun(['--', interpreterFor(13).command, join(SCRIPTS, 'module_demo.py'), done]);
    const url = (await proc.waitFor(/webmon: serving (http:\/\/\S+)/))[1]!;
    const body = JSON.stringify({ port: 1, authkey: 'x', name: 'evil' });
    const attempts: Record<string, string>[] = [{}, { 'x-webmon-run-token': 'wrong' }];
    for (const headers of attempts) {
      const response = await fetch(`${url}api/sources`, { method: 'POST', body, headers });
      expect(response.status).toBe(403);
    }
    writeFileSync(done, '');
    expect(await proc.exited(60_000)).toBe(7);
  });
});

describe('monitor.start() without webmon run', () => {
  it('launches webmon itself, and a kill -9 leaves no process, port or shared-memory block', async () => {
    const before = shmNames();
    const python = startProcess(interpreterFor(13).command, [join(SCRIPTS, 'module_killed.py')], { cwd: work, env: { ...process.env, PYTHONPATH: pythonPath(), WEBMON_PORT: '0', NAPARI_MON_CLIENT: '' } });
    running.push(python);
    const facts = JSON.parse((await python.waitFor(/facts (\{.*\})/, 90_000))[1]!) as { url: string; ring: string; webmon: number; port: number; tracker: number };
    expect(facts.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const client = relayClient(facts.url);
    const alive: unknown[] = [];
    client.subscribe('killed.data.alive', (event) => void (event.kind === 'data' && alive.push(event.payload)));
    await eventually(() => (alive.length > 0 ? true : undefined), 60_000, 'the launched webmon serving');
    expect(shmNames().has(facts.ring)).toBe(true);

    python.child.kill('SIGKILL');
    await python.exited(10_000);
    await eventually(() => (isGone(facts.webmon) ? true : undefined), 30_000, 'webmon gone');
    await eventually(() => (shmNames().has(facts.ring) ? undefined : true), 30_000, 'the ring unlinked');
    // Python's resource tracker unlinked it, then ended too: no process of the program is left.
    expect(facts.tracker).toBeGreaterThan(0);
    await eventually(() => (isGone(facts.tracker) ? true : undefined), 30_000, 'the resource tracker gone');
    expect(await refused(facts.port)).toBe(true);
    const leftover = [...shmNames()].filter((name) => !before.has(name) && name.startsWith('wmr_'));
    expect(leftover.filter((name) => name === facts.ring)).toEqual([]);
  });
});

function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}
