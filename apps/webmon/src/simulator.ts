/**
 * `webmon` with no napari: start the built-in simulator, which then starts webmon exactly as napari
 * would (a client command with `NAPARI_MON_CLIENT` in its environment). This process only supervises:
 * it forwards Ctrl-C / SIGTERM and exits with the simulator's status (which is webmon's own when
 * webmon ended the run, e.g. a taken port).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WebmonError, WebmonErrorCode } from './errors.js';
import type { Logger } from './logger.js';
import type { WebmonOptions } from './options.js';
import { findPython } from './python.js';
import { pythonPath } from './serving.js';

/** The simulator script, shipped beside `dist/` (and beside `src/` in the repository). */
export const SIMULATOR_SCRIPT = fileURLToPath(new URL('../python/napari_simulator.py', import.meta.url));

export async function runWithSimulator(options: WebmonOptions, logger: Logger): Promise<number> {
  const python = findPython(options.python);
  if (!existsSync(SIMULATOR_SCRIPT)) {
    throw new WebmonError(WebmonErrorCode.NO_PYTHON, `the simulator script is missing (${SIMULATOR_SCRIPT}); reinstall webmon`);
  }
  logger.info(`no napari given: starting the napari simulator as napari ${options.simulate === '0.4' ? '0.4 (octree)' : '0.5–0.9 (no octree, no commands)'} (${python.command} ${python.version})`);
  // The same node, loader flags and script, with the same arguments: the child is this command again,
  // launched the napari way.
  const script = process.argv[1];
  if (script === undefined) throw new WebmonError(WebmonErrorCode.BAD_ARGUMENT, 'cannot tell which script is running');
  const client = [process.execPath, ...process.execArgv, script, ...options.argv, '--from-simulator'];
  const simulatorArgs = [
    SIMULATOR_SCRIPT,
    '--watch-stdin',
    '--exit-with-client',
    '--napari',
    options.simulate,
    ...(options.simulatePluginAfter === undefined ? [] : ['--plugin-after', String(options.simulatePluginAfter)]),
    '--image-size',
    String(options.simulateImage),
    ...(options.logLevel === 'error' || options.logLevel === 'warn' ? ['--quiet'] : []),
    '--',
    ...client,
  ];
  // The simulator streams its live image through `webmon_ring.RingWriter` (shipped with shm-reader),
  // found as any program using the webmon module finds it.
  const child = spawn(python.command, simulatorArgs, { stdio: ['pipe', 'inherit', 'inherit'], env: { ...process.env, PYTHONPATH: pythonPath() } });

  // Ctrl-C in a terminal signals the whole process group (simulator and webmon too); a SIGTERM sent to
  // this process alone is passed on. Either way the simulator shuts napari-style and we wait for it.
  const forward = (signal: NodeJS.Signals): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal === 'SIGINT' ? 'SIGINT' : 'SIGTERM');
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', (error) => reject(new WebmonError(WebmonErrorCode.NO_PYTHON, `cannot start ${python.command}: ${error.message}`, { cause: error })));
      child.once('exit', (code, signal) => resolve(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1)));
    });
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
    child.stdin?.destroy();
  }
}
