/**
 * The napari simulator as each napari it claims to be: the real script on real CPython, read through a real
 * `ManagerClient` (the same client webmon uses), no mocks. `--napari 0.5` must look like napari 0.5–0.9
 * (empty polls, frame_time only, no commands run), `--napari 0.4` like napari 0.4 (octree layer, load_chunk,
 * show_grid), and `--plugin-after` like a plugin calling monitor.add_data / send_message mid-run.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ManagerClient, QueueEmptyError, ringWriterPythonPath, type DictProxy, type QueueProxy } from '@webmon/shm-reader';
import { afterEach, describe, expect, it } from 'vitest';
import { PYTHON, SIMULATOR, eventually, startProcess, type Proc } from './helpers.js';
import { pyenvInterpreters, type Interpreter } from './pythons.js';

const PYTHONPATH = dirname(ringWriterPythonPath());
const EXECUTED = /show_grid (True|False)/;

/** The newest installed CPython ≥ 3.10 (napari 0.5 needs it); else whatever `python3` is. */
function napari05Python(): string {
  const fit = pyenvInterpreters().filter((i) => i.version[0] === 3 && i.version[1] >= 10);
  return fit[fit.length - 1]?.command ?? PYTHON;
}
const oldest38: Interpreter | undefined = pyenvInterpreters().find((i) => i.version[0] === 3 && i.version[1] === 8);

interface Running {
  proc: Proc;
  port: number;
  client: ManagerClient;
  data: DictProxy;
  messages: QueueProxy;
  commands: QueueProxy;
}

const procs: Proc[] = [];
const clients: ManagerClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(procs.splice(0).map((proc) => proc.stop()));
});

/** Starts the simulator serving only (no client), small and slow image ring to spare the shared cores. */
async function simulator(python: string, args: string[]): Promise<Running> {
  const proc = startProcess(python, [SIMULATOR, '--image-size', '64', '--image-hz', '5', ...args], { env: { ...process.env, PYTHONPATH } });
  procs.push(proc);
  const port = Number((await proc.waitFor(/^napari simulator: manager port (\d+)$/m, 60_000))[1]);
  const client = await ManagerClient.connect({ port, authkey: 'napari' });
  clients.push(client);
  const [data, messages, commands] = await Promise.all([client.dict('napari_data'), client.queue('napari_messages'), client.queue('client_messages')]);
  return { proc, port, client, data, messages, commands };
}

/** Every message put on napari_messages during the next `ms` milliseconds (older ones are dropped first). */
async function collect(messages: QueueProxy, ms: number): Promise<Map<string, unknown>[]> {
  await drain(messages);
  const out: Map<string, unknown>[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      out.push((await messages.get(true, 0.2)) as Map<string, unknown>);
    } catch (error) {
      if (!(error instanceof QueueEmptyError)) throw error;
    }
  }
  return out;
}

async function drain(messages: QueueProxy): Promise<void> {
  for (;;) {
    try {
      await messages.getNowait();
    } catch (error) {
      if (error instanceof QueueEmptyError) return;
      throw error;
    }
  }
}

const kinds = (items: Map<string, unknown>[]): Set<string> => new Set(items.flatMap((item) => [...item.keys()]));
const ofKind = (items: Map<string, unknown>[], kind: string): Map<string, unknown>[] =>
  items.flatMap((item) => (item.has(kind) ? [item.get(kind) as Map<string, unknown>] : []));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The 0.5 checks shared by the default-interpreter and the Python 3.8 runs. */
async function expectNapari05(sim: Running): Promise<void> {
  expect(await sim.data.get('poll')).toEqual(new Map([['layers', new Map()]]));
  // The image ring is a plugin's doing: still named in napari_data.
  expect(await sim.data.get('webmon_rings')).toBeInstanceOf(Map);
  const items = await collect(sim.messages, 2_000);
  expect([...kinds(items)]).toEqual(['frame_time']);
  const frames = ofKind(items, 'frame_time');
  expect(frames.length).toBeGreaterThan(10); // 60 Hz for 2 s, on a busy machine
  expect(typeof frames[0]?.get('time')).toBe('number');
  expect(typeof frames[0]?.get('delta_ms')).toBe('number');
  expect(ofKind(items, 'load_chunk')).toHaveLength(0);
  expect(await sim.data.get('poll')).toEqual(new Map([['layers', new Map()]]));

  await sim.commands.put(new Map([['show_grid', true]]));
  await sim.proc.waitFor(/RemoteCommands\.show_grid does not exist\./, 30_000);
  expect(sim.proc.stderr()).toMatch(/^napari simulator: RemoteCommands\.show_grid does not exist\.$/m);
  // The AttributeError is a second line, which may arrive in a later chunk than the first.
  await sim.proc.waitFor(/AttributeError/, 10_000);
  // The command queue is drained every frame; give a would-be executor a few more frames.
  await sleep(500);
  expect(sim.proc.output()).not.toMatch(EXECUTED);
  expect(await sim.commands.qsize()).toBe(0);
  expect(sim.proc.child.exitCode).toBeNull();
}

describe('napari simulator --napari 0.5 (napari 0.5–0.9)', () => {
  it('sends empty polls and frame_time only, and runs no command (logs "does not exist")', async () => {
    const sim = await simulator(napari05Python(), ['--napari', '0.5']);
    expect(sim.proc.stdout()).toMatch(/as napari 0\.5-0\.9/);
    await expectNapari05(sim);
  });

  it.skipIf(!oldest38)('does the same on the oldest interpreter, CPython 3.8', async () => {
    const sim = await simulator(oldest38?.command ?? PYTHON, ['--napari', '0.5']);
    expect(sim.proc.stdout()).toMatch(/Python 3\.8\.\d+/);
    await expectNapari05(sim);
  });
});

describe('napari simulator --napari 0.4 (the default), for contrast', () => {
  it('sends an octree layer and load_chunk, executes show_grid, and logs an unknown command as napari 0.4 does', async () => {
    const sim = await simulator(napari05Python(), []);
    const poll = (await sim.data.get('poll')) as Map<string, Map<unknown, unknown>>;
    expect(poll.get('layers')?.size).toBe(1);
    const items = await collect(sim.messages, 2_000);
    expect(ofKind(items, 'frame_time').length).toBeGreaterThan(10);
    expect(ofKind(items, 'load_chunk').length).toBeGreaterThan(0);

    await sim.commands.put(new Map([['show_grid', false]]));
    await sim.proc.waitFor(/^napari simulator: show_grid False$/m, 30_000);
    expect(sim.proc.stderr()).not.toMatch(/does not exist/);
    await sim.commands.put(new Map([['set_zoom', 2]]));
    await sim.proc.waitFor(/RemoteCommands\.set_zoom does not exist\./, 30_000);
    expect(sim.proc.stderr()).toMatch(/^napari simulator: RemoteCommands\.set_zoom does not exist\.$/m);
  });
});

describe('napari simulator --plugin-after', () => {
  it('adds napari_data["my_plugin"] and my_event messages only from that moment on (and says so even with --quiet)', async () => {
    const sim = await simulator(napari05Python(), ['--napari', '0.5', '--plugin-after', '1', '--quiet']);
    const seen = Date.now();
    expect(await sim.data.get('my_plugin')).toBeNull();
    const early = await collect(sim.messages, 300);
    expect(kinds(early).has('my_event')).toBe(false);
    expect(sim.proc.stderr()).not.toMatch(/plugin data started/);

    const plugin = (await eventually(async () => ((await sim.data.get('my_plugin')) as Map<string, unknown> | null) ?? undefined, 30_000, 'my_plugin')) as Map<string, unknown>;
    expect(Date.now() - seen).toBeGreaterThan(500);
    expect(plugin.get('label')).toBe('hello');
    expect(typeof plugin.get('count')).toBe('number');
    expect(typeof (plugin.get('stats') as Map<string, unknown>).get('mean')).toBe('number');
    expect(sim.proc.stderr()).toMatch(/^napari simulator: plugin data started$/m);
    expect(sim.proc.stdout()).not.toMatch(/manager on/); // --quiet held back the chatter, not the plugin line

    const items = await collect(sim.messages, 1_500);
    const events = ofKind(items, 'my_event');
    expect(events.length).toBeGreaterThanOrEqual(5); // 10 Hz for 1.5 s
    expect(events.length).toBeLessThanOrEqual(20);
    const counts = events.map((event) => event.get('count') as number);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(new Set(counts).size).toBe(counts.length);
    expect(typeof events[0]?.get('time')).toBe('number');
    const later = (await sim.data.get('my_plugin')) as Map<string, unknown>;
    expect(later.get('count') as number).toBeGreaterThan(plugin.get('count') as number);
    expect(kinds(items)).toEqual(new Set(['frame_time', 'my_event']));
  });
});

describe('napari simulator serving only (no client)', () => {
  it('prints its manager port, keeps serving, and stops with status 0 on SIGTERM', async () => {
    const sim = await simulator(PYTHON, ['--seconds', '0', '--napari', '0.5']);
    expect(sim.port).toBeGreaterThan(0);
    expect(sim.proc.stdout()).toMatch(new RegExp(`manager on 127\\.0\\.0\\.1:${sim.port}`));
    await sleep(1_000);
    expect(sim.proc.child.exitCode).toBeNull();
    sim.proc.child.kill('SIGTERM');
    expect(await sim.proc.exited(30_000), sim.proc.output()).toBe(0);
  });

  it('with --watch-stdin stops with status 0 when stdin closes, printing the port even with --quiet', async () => {
    const sim = await simulator(PYTHON, ['--watch-stdin', '--quiet']);
    expect(sim.proc.stdout()).toBe(`napari simulator: manager port ${sim.port}\n`);
    sim.proc.child.stdin?.end();
    expect(await sim.proc.exited(30_000), sim.proc.output()).toBe(0);
  });
});

describe('napari simulator killed hard', () => {
  /** Alive and not a zombie (an orphan's new parent may not reap it at once). */
  const running = (pid: number): boolean => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };

  it('leaves its manager serving, as napari does, and that manager stops on SIGTERM', async () => {
    const sim = await simulator(PYTHON, ['--seconds', '0', '--napari', '0.5']);
    const pid = sim.proc.child.pid!;
    // The manager's server is a fork of the simulator (same command line); the resource tracker is not.
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
    const servers = children.filter((child) => readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('napari_simulator'));
    expect(servers).toHaveLength(1);
    const server = servers[0]!;
    try {
      sim.proc.child.kill('SIGKILL');
      await sim.proc.exited(30_000);
      expect(running(server)).toBe(true);
      expect(await sim.data.keys()).toContain('poll'); // still serving napari's objects
      process.kill(server, 'SIGTERM');
      await eventually(() => (running(server) ? undefined : true), 10_000, 'the orphaned manager gone after SIGTERM');
    } finally {
      for (const child of children) if (running(child)) process.kill(child, 'SIGKILL');
    }
  });
});

describe('napari simulator and numpy', () => {
  /** The BLAS thread settings numpy would see after `import napari_simulator`, with `env` given. */
  function blasThreadsAfterImport(env: Record<string, string>): string[] {
    const script = 'import napari_simulator, os\nprint(",".join(os.environ.get(k, "-") for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")))';
    const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(OPENBLAS|OMP|MKL)_NUM_THREADS$/.test(key)));
    const out = execFileSync(PYTHON, ['-c', script], { env: { ...clean, ...env, PYTHONPATH: `${dirname(SIMULATOR)}:${PYTHONPATH}` }, encoding: 'utf8' });
    return out.trim().split(',');
  }

  // A multi-threaded BLAS spins its idle threads: the image stream took a whole core of the two it shares
  // with webmon and the browser. One thread draws the frame in about a millisecond.
  it('keeps BLAS to one thread when imported before numpy, unless the user set a number', () => {
    expect(blasThreadsAfterImport({})).toEqual(['1', '1', '1']);
    expect(blasThreadsAfterImport({ OPENBLAS_NUM_THREADS: '2', MKL_NUM_THREADS: '4' })).toEqual(['2', '1', '4']);
  });
});
