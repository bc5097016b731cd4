/**
 * napari dies hard (SIGKILL; for napari, a crash in its Qt or OpenGL code) while its manager's server
 * process, a child, lives on and keeps answering. Real processes, a real SIGKILL: the simulator launches
 * webmon the napari way, under a small Python subreaper that adopts the orphans (as init would) and
 * reports webmon's exit status and when it came.
 */
import { execFileSync } from 'node:child_process';
import { dirname } from 'node:path';
import { ringWriterPythonPath } from '@webmon/shm-reader';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, PYTHON, SIMULATOR, eventually, getJson, startProcess, startWebmon, type Proc } from './helpers.js';

const running: Proc[] = [];
const strays: number[] = [];
afterEach(async () => {
  // The orphaned manager ignores SIGTERM (it inherits the simulator's handler): it needs SIGKILL.
  for (const pid of strays.splice(0)) signal(pid, 'SIGKILL');
  await Promise.all(running.splice(0).map((proc) => proc.stop()));
});

/**
 * Adopts orphaned descendants (PR_SET_CHILD_SUBREAPER, Linux) and prints each reaped pid with its exit
 * status and the wall-clock time, so the test learns webmon's status after its parent died.
 */
const SUBREAPER = String.raw`
import ctypes, os, subprocess, sys, time
if ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) != 0:
    sys.exit('subreaper: prctl failed')
child = subprocess.Popen(sys.argv[1:])
while True:
    try:
        pid, status = os.wait()
    except ChildProcessError:
        break
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status)
    print('subreaper: reaped %d status %d at %.3f' % (pid, code, time.time()), flush=True)
`;

const env = { ...process.env, PYTHONPATH: [dirname(ringWriterPythonPath()), process.env['PYTHONPATH']].filter(Boolean).join(':') };

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Children of `parent` whose command line matches `pattern` (pgrep -P … -f …). */
function pgrep(parent: number, pattern: string): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(parent), '-f', pattern], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The simulator launching webmon (as napari does), under the subreaper; resolves once webmon serves. */
async function launchedByNapari(webmonArgs: string[]): Promise<{ tree: Proc; url: string; simulator: number; manager: number; webmon: number }> {
  const tree = startProcess(PYTHON, ['-c', SUBREAPER, PYTHON, SIMULATOR, '--hz', '30', '--image-size', '64', '--', process.execPath, CLI, '--port', '0', ...webmonArgs], { env });
  running.push(tree);
  const url = (await tree.waitFor(/webmon: serving (http:\/\/\S+)/, 90_000))[1] ?? '';
  await tree.waitFor(/publishing ring \S+ on napari\.image/, 30_000);
  const [simulator] = pgrep(tree.child.pid!, 'napari_simulator.py');
  if (simulator === undefined) throw new Error(`no simulator under the subreaper:\n${tree.output()}`);
  // The manager's server process is a fork of the simulator (same command line); webmon is node.
  const [manager] = pgrep(simulator, 'napari_simulator.py');
  const [webmon] = pgrep(simulator, `^${process.execPath} `);
  if (manager === undefined || webmon === undefined) throw new Error(`manager ${manager}, webmon ${webmon}:\n${tree.output()}`);
  strays.push(simulator, manager, webmon);
  return { tree, url, simulator, manager, webmon };
}

interface Status {
  napari: string;
}

describe('napari killed hard while its manager lives on', () => {
  it('webmon notices its launcher is gone and exits with status 0 within 2 s, saying why', async () => {
    const { tree, simulator, manager, webmon } = await launchedByNapari([]);
    const killedAt = Date.now();
    signal(simulator, 'SIGKILL');
    const reaped = await tree.waitFor(new RegExp(`subreaper: reaped ${webmon} status (-?\\d+) at ([\\d.]+)`), 20_000);
    const exitMs = Number(reaped[2]) * 1000 - killedAt;
    // The orphan is still there and would have kept webmon "connected" forever.
    expect(alive(manager), 'the manager outlived napari').toBe(true);
    expect(Number(reaped[1]), tree.output()).toBe(0);
    expect(exitMs, tree.output()).toBeLessThan(2_000);
    expect(tree.output()).toMatch(new RegExp(`napari is gone \\(webmon's launcher \\(pid ${simulator}\\) is gone[^)]*\\); its manager at 127\\.0\\.0\\.1:\\d+ may live on without it; exiting`));
    // The ring's writer died with napari: said at most once, not every second.
    expect(tree.output().match(/its writer is gone/g)?.length ?? 0).toBeLessThanOrEqual(1);
    console.info(`webmon exited ${exitMs} ms after napari's SIGKILL`);
  });

  it('with --stay, reports napari not connected, stays off the orphaned manager and keeps serving', async () => {
    const { tree, url, simulator, manager, webmon } = await launchedByNapari(['--stay']);
    const napari = async (): Promise<string> => ((await getJson(`${url}api/status`)) as Status).napari;
    expect(await napari()).toBe('connected');
    const killedAt = Date.now();
    signal(simulator, 'SIGKILL');
    await eventually(async () => ((await napari()) !== 'connected' ? true : undefined), 10_000, 'not connected');
    const seenMs = Date.now() - killedAt;
    expect(seenMs, tree.output()).toBeLessThan(2_000);
    expect(alive(manager), 'the manager outlived napari').toBe(true);
    await tree.waitFor(/napari is gone .*; --stay: serving on and waiting for a new napari to hand over/, 5_000);
    // A while later: still serving, still not back on the orphan (no retry goes there).
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await napari()).toBe('waiting');
    expect((await fetch(url)).status).toBe(200);
    expect(alive(webmon)).toBe(true);
    console.info(`--stay: not connected ${seenMs} ms after napari's SIGKILL`);
    // And it still stops cleanly.
    signal(webmon, 'SIGTERM');
    const reaped = await tree.waitFor(new RegExp(`subreaper: reaped ${webmon} status (-?\\d+)`), 20_000);
    expect(Number(reaped[1]), tree.output()).toBe(0);
  });
});

describe('a ring whose writer died while napari still names it', () => {
  it('is warned about once, not every time discovery finds it again', async () => {
    // Attached by hand (no launcher to watch): webmon stays on the orphaned manager, which still names the ring.
    const simulator = startProcess(PYTHON, [SIMULATOR, '--no-clients', '--hz', '30', '--image-size', '64'], { env });
    running.push(simulator);
    const port = Number((await simulator.waitFor(/manager on 127\.0\.0\.1:(\d+)/))[1]);
    const [manager] = pgrep(simulator.child.pid!, 'napari_simulator.py');
    if (manager !== undefined) strays.push(manager);
    const { proc } = await startWebmon(['--port', '0', '--connect', `127.0.0.1:${port}`]);
    running.push(proc);
    await proc.waitFor(/publishing ring \S+ on napari\.image/, 30_000);
    simulator.child.kill('SIGKILL');
    await proc.waitFor(/its writer is gone/, 10_000);
    // Discovery retries every second: five more chances to repeat it.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect(proc.output().match(/its writer is gone/g)?.length, proc.output()).toBe(1);
    expect(proc.output().match(/publishing ring/g)?.length, proc.output()).toBe(1);
  });
});
