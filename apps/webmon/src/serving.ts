/** What every way of serving shares (napari's client, `webmon run`): where the app's files are, relay limits, signals. */
import type { IncomingMessage } from 'node:http';
import { delimiter, dirname, join } from 'node:path';
import { ringWriterPythonPath } from '@webmon/shm-reader';
import { fileURLToPath } from 'node:url';
import type { Logger } from './logger.js';
import type { WebmonOptions } from './options.js';
import { locatePagePackage, type PageEntry } from './pages.js';

export const DIST_DIR = fileURLToPath(new URL('.', import.meta.url));
export const ASSETS_DIR = `${DIST_DIR}public`;
export const APP_DIR = join(DIST_DIR, '..');
/** The folder `webmon python-path` prints: the `webmon` Python module ships in it. */
export const PYTHON_DIR = join(APP_DIR, 'python');

/** The image page package, shown by default on the simulator and under `webmon run` (both stream images through rings). */
export const IMAGE_PAGE_PACKAGE = '@webmon/page-image';
/** The explorer page package: every topic of every source, shown by default with any source. */
export const EXPLORER_PAGE_PACKAGE = '@webmon/page-explorer';

/** A route that threw, for the terminal: the request and the stack (the page got a bare 500). */
export function logInternalError(logger: Logger, error: unknown, request: IncomingMessage): void {
  logger.error(`internal error answering ${request.method ?? '?'} ${request.url ?? '?'}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
}

export const RELAY_LIMITS = {
  // A page that falls behind should get the newest poll, not a backlog: keep little in flight.
  highWaterMark: 128 * 1024,
  lowWaterMark: 32 * 1024,
  // A 1024 × 1024 float32 frame is 4 MiB: room for one in flight plus one parked per page.
  maxBufferedBytes: 64 * 2 ** 20,
  // Every local page comes from 127.0.0.1, and a page that takes an image beside other topics holds two
  // connections (its own and its bulk worker's): the relay's 16 would lock out the ninth such tab.
  maxConnectionsPerAddress: 32,
} as const;

/**
 * SIGINT and SIGTERM from the start of the run, so both end it cleanly whenever they come. Once only: a
 * second Ctrl-C gets Node's default (immediate exit) if the clean stop hangs.
 */
export function takeSignals(): { next: Promise<NodeJS.Signals>; release: () => void } {
  let resolve!: (signal: NodeJS.Signals) => void;
  const next = new Promise<NodeJS.Signals>((done) => (resolve = done));
  const onSignal = (signal: NodeJS.Signals): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    resolve(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    next,
    release: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** Where page packages are looked up: the config's directory, the working directory, then the app's own dependencies. */
export function pageSearchPaths(options: WebmonOptions): string[] {
  return [...new Set([...options.pageSearchPaths, APP_DIR])];
}

/**
 * `PYTHONPATH` for the Python webmon starts (a program under `webmon run`, the simulator): the `webmon`
 * module first, then `webmon_ring`'s folder (the module also finds it by itself, in `node_modules`
 * above it), then whatever the user had.
 */
export function pythonPath(env: NodeJS.ProcessEnv = process.env): string {
  return [PYTHON_DIR, dirname(ringWriterPythonPath()), ...(env['PYTHONPATH'] ? [env['PYTHONPATH']] : [])].join(delimiter);
}

/**
 * Page packages the app brings along, resolved from its own dependencies. The explorer is shown with
 * any source: it needs nothing from one but topics. The simulator streams an image through a
 * shared-memory ring, so its demo shows the image page without setup; not with a real napari (whose
 * plugins may or may not publish rings: add it with `--page @webmon/page-image`); `webmon run` asks for it
 * too (the Python module's `monitor.image`). A package the user named with `--page` is not added twice.
 */
export function defaultPages(options: WebmonOptions, withImage = options.fromSimulator): PageEntry[] {
  const wanted = [EXPLORER_PAGE_PACKAGE, ...(withImage ? [IMAGE_PAGE_PACKAGE] : [])].filter((name) => !options.pages.includes(name));
  return wanted.flatMap((name) => {
    try {
      return [locatePagePackage(name, [APP_DIR])];
    } catch {
      return []; // not installed next to the app: webmon runs without it
    }
  });
}
