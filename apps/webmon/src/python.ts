/** Finds a Python ≥ 3.8 for the simulator, saying exactly what was tried when there is none. */
import { spawnSync } from 'node:child_process';
import { WebmonError, WebmonErrorCode } from './errors.js';

export const MIN_PYTHON = [3, 8] as const;

export interface FoundPython {
  command: string;
  version: string;
}

interface Candidate {
  command: string;
  /** Named by the user: a failure is reported at once instead of trying the next one. */
  explicit: string | undefined;
}

/** `explicit` (--python / config), then `$WEBMON_PYTHON`, then `python3`, then `python`. */
export function findPython(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): FoundPython {
  const candidates: Candidate[] = [];
  if (explicit !== undefined) candidates.push({ command: explicit, explicit: '--python' });
  else if (env['WEBMON_PYTHON']) candidates.push({ command: env['WEBMON_PYTHON'], explicit: 'WEBMON_PYTHON' });
  else candidates.push({ command: 'python3', explicit: undefined }, { command: 'python', explicit: undefined });

  const tooOld: string[] = [];
  const missing: string[] = [];
  for (const candidate of candidates) {
    const version = pythonVersion(candidate.command, env);
    if (version === undefined) {
      if (candidate.explicit) {
        throw new WebmonError(WebmonErrorCode.NO_PYTHON, `${candidate.explicit} names ${JSON.stringify(candidate.command)}, which does not run as Python. The simulator needs Python ${MIN_PYTHON.join('.')} or newer.`);
      }
      missing.push(candidate.command);
      continue;
    }
    if (isAtLeast(version, MIN_PYTHON)) return { command: candidate.command, version };
    if (candidate.explicit) {
      throw new WebmonError(WebmonErrorCode.PYTHON_TOO_OLD, `${candidate.explicit} names ${candidate.command}, which is Python ${version}; the simulator needs Python ${MIN_PYTHON.join('.')} or newer.`);
    }
    tooOld.push(`${candidate.command} is ${version}`);
  }
  if (tooOld.length > 0) {
    throw new WebmonError(WebmonErrorCode.PYTHON_TOO_OLD, `the napari simulator needs Python ${MIN_PYTHON.join('.')} or newer, but ${tooOld.join(' and ')}. Install a newer Python or point WEBMON_PYTHON at one (or run webmon from napari, or with --connect).`);
  }
  throw new WebmonError(WebmonErrorCode.NO_PYTHON, `no napari to attach to, and no Python to run the built-in simulator: ${missing.join(' and ')} not found. Install Python ${MIN_PYTHON.join('.')}+ or set WEBMON_PYTHON (or run webmon from napari, or with --connect host:port).`);
}

/** "3.11.7", or undefined when the command does not run or is not Python. */
function pythonVersion(command: string, env: NodeJS.ProcessEnv): string | undefined {
  // print() with one string argument is valid in Python 2 as well, so an old Python is told apart from none.
  const result = spawnSync(command, ['-c', 'import sys; print("%d.%d.%d" % tuple(sys.version_info[:3]))'], {
    env,
    encoding: 'utf8',
    timeout: 15_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (result.error || result.status !== 0) return undefined;
  const version = result.stdout.trim();
  return /^\d+\.\d+\.\d+$/.test(version) ? version : undefined;
}

function isAtLeast(version: string, minimum: readonly [number, number]): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > minimum[0] || (major === minimum[0] && minor >= minimum[1]);
}
