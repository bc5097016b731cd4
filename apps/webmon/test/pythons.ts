/**
 * The CPython interpreters installed here, found by version rather than by path, so the CLI tests keep
 * working when pyenv's patch releases move on (3.8.18 today, 3.8.20 tomorrow).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Interpreter {
  command: string;
  version: [major: number, minor: number, micro: number];
  hasNumpy: boolean;
}

// find_spec looks numpy up without importing it (importing takes seconds on a busy machine).
const PROBE = [
  'import sys',
  'try:',
  '    import importlib.util',
  '    numpy = importlib.util.find_spec("numpy") is not None',
  'except Exception:',
  '    numpy = False',
  'print("%d.%d.%d %d" % (sys.version_info[0], sys.version_info[1], sys.version_info[2], numpy))',
].join('\n');

function probe(command: string): Interpreter | undefined {
  const result = spawnSync(command, ['-c', PROBE], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
  const match = result.status === 0 ? /^(\d+)\.(\d+)\.(\d+) ([01])$/.exec(result.stdout.trim()) : null;
  if (!match) return undefined;
  return { command, version: [Number(match[1]), Number(match[2]), Number(match[3])], hasNumpy: match[4] === '1' };
}

const compareVersions = (a: Interpreter, b: Interpreter): number => a.version[0] - b.version[0] || a.version[1] - b.version[1] || a.version[2] - b.version[2];
const isAtLeast = (interpreter: Interpreter, major: number, minor: number): boolean =>
  interpreter.version[0] > major || (interpreter.version[0] === major && interpreter.version[1] >= minor);

let cached: Interpreter[] | undefined;

/** Every `~/.pyenv/versions/<v>/bin/python3` that runs, oldest first. */
export function pyenvInterpreters(): Interpreter[] {
  if (cached) return cached;
  const versions = join(homedir(), '.pyenv', 'versions');
  const commands = existsSync(versions) ? readdirSync(versions).map((name) => join(versions, name, 'bin', 'python3')).filter((path) => existsSync(path)) : [];
  cached = commands.flatMap((command) => probe(command) ?? []).sort(compareVersions);
  return cached;
}

/** The oldest installed Python ≥ 3.8 without numpy: the floor the simulator promises to run on, lists and all. */
export function oldestSupportedWithoutNumpy(): Interpreter {
  const found = pyenvInterpreters().find((interpreter) => isAtLeast(interpreter, 3, 8) && !interpreter.hasNumpy);
  if (!found) {
    const seen = pyenvInterpreters().map((i) => `${i.version.join('.')}${i.hasNumpy ? ' (numpy)' : ''}`);
    throw new Error(`these tests need a CPython >= 3.8 without numpy under ~/.pyenv/versions; found: ${seen.join(', ') || 'none'}`);
  }
  return found;
}

/**
 * A Python older than 3.8 for the "too old" check: the newest installed one, or, when there is none, a stand-in
 * that is a real Python running the app's probe with `sys.version_info` set to 3.7.16. Either way the app's
 * own detection (spawn, parse, compare) runs for real; only the version it reads is old.
 */
export function tooOldPython(): { command: string; version: string; dispose(): void } {
  const old = pyenvInterpreters().filter((interpreter) => !isAtLeast(interpreter, 3, 8) && interpreter.version[0] === 3);
  const newestOld = old[old.length - 1];
  if (newestOld) return { command: newestOld.command, version: newestOld.version.join('.'), dispose: () => undefined };
  const host = pyenvInterpreters().find((interpreter) => interpreter.version[0] === 3);
  const real = host?.command ?? 'python3';
  const dir = mkdtempSync(join(tmpdir(), 'webmon-old-python-'));
  const command = join(dir, 'python3');
  writeFileSync(
    command,
    [
      `#!${real}`,
      '# Stand-in for Python 3.7 (webmon tests): runs `-c CODE` on the real interpreter above, reporting 3.7.16.',
      'import sys',
      'if len(sys.argv) < 3 or sys.argv[1] != "-c":',
      '    sys.exit("usage: python3 -c CODE")',
      'sys.version_info = (3, 7, 16, "final", 0)',
      'exec(sys.argv[2], {"__name__": "__main__"})',
      '',
    ].join('\n'),
  );
  chmodSync(command, 0o755);
  return { command, version: '3.7.16', dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The installed CPython 3.`minor` (with or without numpy when `numpy` says which); throws when there is none, so a test cannot pass without it. */
export function interpreterFor(minor: number, numpy?: boolean): Interpreter {
  const found = pyenvInterpreters().find((python) => python.version[0] === 3 && python.version[1] === minor && (numpy === undefined || python.hasNumpy === numpy));
  if (!found) throw new Error(`these tests need CPython 3.${minor}${numpy === undefined ? '' : numpy ? ' with numpy' : ' without numpy'} under ~/.pyenv/versions`);
  return found;
}
