/**
 * Composition: pages + one HTTP server with the relay + the sources (napari bridges). No logic of its
 * own beyond wiring and lifecycle; the work is done by the packages.
 */
import { spawn } from 'node:child_process';
import { createRelay, generateToken, isLoopbackHostName } from '@webmon/relay';
import type { FileRecorder } from '@webmon/recorder';
import { finishRecording, recordingSchemas, startRecording } from './recording.js';
import { handOver } from './http/attach.js';
import { startWebmonServer, type WebmonServer } from './http/server.js';
import { WebmonError, WebmonErrorCode } from './errors.js';
import { createLogger, type Io, type Logger } from './logger.js';
import type { WebmonOptions } from './options.js';
import { loadPages } from './pages.js';
import { watchParent } from './parent-watch.js';
import { runProgram } from './run.js';
import { runReplay } from './replay.js';
import { ASSETS_DIR, DIST_DIR, RELAY_LIMITS, defaultPages, logInternalError, pageSearchPaths, takeSignals } from './serving.js';
export { EXPLORER_PAGE_PACKAGE, IMAGE_PAGE_PACKAGE } from './serving.js';
import { runWithSimulator } from './simulator.js';
import { Sources, sourceSpecs } from './sources.js';
import { RateMeter, formatStatus, startStatusLine, type RateSnapshot } from './status-line.js';


/** Runs webmon until napari leaves (or a signal); resolves with the exit status. */
export async function runWebmon(options: WebmonOptions, io: Io = defaultIo(options)): Promise<number> {
  // Once per run: the webmon the simulator launches reads the same config again.
  if (!options.fromSimulator) noteConfigReach(options, io.logger);
  if (options.source.kind === 'simulator') {
    // The webmon the simulator launches loads these pages; a missing or bad one is found here, before
    // Python starts, rather than after the simulator is up.
    loadPages(DIST_DIR, options.pages, pageSearchPaths(options), defaultPages({ ...options, fromSimulator: true }));
    return runWithSimulator(options, io.logger);
  }
  if (options.source.kind === 'run') return runProgram(options, io, options.source);
  if (options.source.kind === 'replay') return runReplay(options, io, options.source.file);
  // Launched by napari: its pid now, before anything could have died (see `parent-watch.ts`).
  const launcherPid = options.source.kind === 'napari-env' ? process.ppid : undefined;
  const signals = takeSignals();
  try {
    if (options.headless) return await recordHeadless(options, io, signals.next, launcherPid);
    return await serve(options, io, signals.next, launcherPid);
  } finally {
    signals.release();
  }
}

async function serve(options: WebmonOptions, io: Io, signalled: Promise<NodeJS.Signals>, launcherPid: number | undefined): Promise<number> {
  const { logger } = io;
  // The app's own dependencies last: `--page @webmon/page-image` works without installing it again.
  const pages = loadPages(DIST_DIR, options.pages, pageSearchPaths(options), defaultPages(options));
  const specs = sourceSpecs(options);
  const label = options.fromSimulator ? 'the napari simulator' : 'napari';

  // Beyond loopback anyone on the network could read napari's state: require a token, handed to the
  // user in the URL fragment (browsers never send fragments, so it stays out of requests and logs).
  const token = isLoopbackHostName(options.host) ? undefined : generateToken();

  let sources: Sources | undefined;
  let meter: RateMeter | undefined;
  let recorder: FileRecorder | undefined;
  let server: WebmonServer;
  try {
    server = await startWebmonServer({
      host: options.host,
      port: options.port,
      pages,
      assetsDir: ASSETS_DIR,
      sourceLabel: label,
      flightRecorderBytes: options.flightRecorderBytes,
      rawImageHz: options.recordRawImageHz,
      schemas: recordingSchemas(),
      onInternalError: (error, request) => logInternalError(logger, error, request),
      relay: { ...(token === undefined ? {} : { token }), ...RELAY_LIMITS },
      status: () => ({
        napari: sources?.primary?.state ?? 'waiting',
        napariAddress: sources?.primary === undefined ? undefined : `${sources.primary.target.host}:${sources.primary.target.port}`,
        sources: sources?.status() ?? [],
        rates: meter?.rates,
        counters: sources?.counters(),
        rings: sources?.rings(),
        pages: pages.map((page) => ({ id: page.id, title: page.title, origin: page.origin })),
        recording: recorder?.stats(),
        // Asked only by requests, which come after `server` is assigned.
        flightRecorder: server.flightRecorder.stats(),
      }),
      ...(options.stay
        ? {
            onAttach: (port: number) => {
              const primary = sources?.primary;
              if (!primary || primary.state === 'connected') return false;
              logger.info(`a new webmon handed over napari's manager at 127.0.0.1:${port}`);
              primary.retarget({ host: '127.0.0.1', port });
              return true;
            },
          }
        : {}),
    });
  } catch (error) {
    // napari restarted and launched us while a `--stay` webmon still serves this port: hand napari to it.
    const launcher = specs.find((spec) => spec.launcher);
    if (error instanceof WebmonError && error.code === WebmonErrorCode.PORT_IN_USE && launcher !== undefined) {
      const existing = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}/`;
      if (await handOver(existing, launcher.address.port)) {
        io.out(`webmon: handed ${label} (port ${launcher.address.port}) to the webmon already serving ${existing}`);
        return 0;
      }
    }
    throw error;
  }

  if (options.record !== undefined) {
    try {
      recorder = await startRecording(server.relay, options.record, logger, options.recordRawImageHz);
    } catch (error) {
      await server.close();
      throw error;
    }
  }
  const recording = recorder;
  // The sources stop first (nothing more is published), then the file gets its summary, then the pages go.
  const stopServing = async (): Promise<void> => {
    await finishRecording(recording, logger);
    await server.close();
  };
  sources = new Sources(specs, server.relay, options, logger);
  const active = sources;
  const stopWatching = launcherPid === undefined ? undefined : watchParent(launcherPid, (why) => active.launcherGone(why));
  try {
    const starting = sources.start();
    starting.catch(() => undefined); // a signal may win the race; its failure is then moot
    const signal = await Promise.race([starting.then(() => undefined), signalled]);
    if (signal !== undefined) {
      // Ctrl-C while napari's manager is still being reached (or not answering): the same clean stop
      // as later, not Node's default death by SIGINT (status 130).
      logger.info(`${signal} while connecting to ${label}: stopping`);
      stopWatching?.();
      await sources.close();
      await stopServing();
      logger.info('stopped');
      return 0;
    }
  } catch (error) {
    stopWatching?.();
    await sources.close();
    await stopServing();
    throw error;
  }
  meter = new RateMeter(() => active.counters());

  const shownUrl = token === undefined ? server.url : `${server.url}#token=${token}`;
  const where = specs.map((spec) => `${specs.length > 1 ? `${spec.prefix}: ` : ''}${label} at ${spec.address.host}:${spec.address.port}`).join(', ');
  io.out(`webmon: serving ${shownUrl} (${where}; pages: ${pages.map((page) => `/${page.id}`).join(' ')})`);
  for (const page of pages) if (page.origin !== 'built-in') logger.info(`page /${page.id} from ${page.origin}`);
  if (options.open) openBrowser(shownUrl, logger);

  const activeMeter = meter;
  const snapshot = (): RateSnapshot => ({ napari: active.describe(), rates: activeMeter.rates, pages: server.relay.stats().connections });
  const stopStatusLine = startStatusLine(snapshot, meter, process.stderr, logger.enabled('info'));

  const reason = await Promise.race([signalled, active.ended.then(() => 'napari-gone')]);
  stopWatching?.();
  stopStatusLine();
  logger.debug(`stopping (${reason}); last status: ${formatStatus(snapshot())}`);
  await active.close();
  await stopServing();
  logger.info('stopped');
  return 0;
}

/**
 * `webmon record <file>`: the sources publish into a relay that serves no one (no HTTP server, no
 * flight recorder); everything is written to the file until the source leaves or a signal comes.
 */
async function recordHeadless(options: WebmonOptions, io: Io, signalled: Promise<NodeJS.Signals>, launcherPid: number | undefined): Promise<number> {
  const { logger } = io;
  const relay = createRelay({});
  let recorder: FileRecorder;
  try {
    recorder = await startRecording(relay, options.record as string, logger, options.recordRawImageHz);
  } catch (error) {
    await relay.close();
    throw error;
  }
  const sources = new Sources(sourceSpecs(options), relay, options, logger);
  const stopWatching = launcherPid === undefined ? undefined : watchParent(launcherPid, (why) => sources.launcherGone(why));
  const stop = async (): Promise<void> => {
    stopWatching?.();
    await sources.close();
    await finishRecording(recorder, logger);
    await relay.close();
  };
  try {
    const starting = sources.start();
    starting.catch(() => undefined);
    if ((await Promise.race([starting.then(() => undefined), signalled])) === undefined) {
      io.out(`webmon: recording ${options.fromSimulator ? 'the napari simulator' : 'napari'} to ${options.record as string} (Ctrl-C stops)`);
      await Promise.race([signalled, sources.ended]);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  await stop();
  logger.info('stopped');
  return 0;
}

/**
 * A config file is easy to overlook (and easy to plant): when it opens webmon to the network or names a
 * program webmon will run, say so, naming the file, as a warning (shown with `-q` too).
 */
export function noteConfigReach(options: WebmonOptions, logger: Logger): void {
  const { configPath, configSettings } = options;
  if (configPath === undefined) return;
  if (configSettings.host !== undefined && !isLoopbackHostName(configSettings.host)) {
    logger.warn(`config ${configPath} sets "host": ${JSON.stringify(configSettings.host)}: webmon listens beyond this machine (pages need the URL's token)`);
  }
  if (configSettings.python !== undefined) {
    logger.warn(`config ${configPath} names an executable, "python": ${JSON.stringify(configSettings.python)}: webmon runs it for the simulator`);
  }
}

function defaultIo(options: WebmonOptions): Io {
  return { out: (line) => process.stdout.write(`${line}\n`), logger: createLogger(options.logLevel) };
}

function openBrowser(url: string, logger: Logger): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'cmd' : 'xdg-open';
  const args = process.platform === 'win32' ? ['/c', 'start', '', url] : [url];
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.on('error', (error) => logger.warn(`--open: could not start ${command} (${error.message}); open ${url} yourself`));
    child.unref();
  } catch (error) {
    logger.warn(`--open: ${(error as Error).message}; open ${url} yourself`);
  }
}
