/**
 * `webmon run [options] -- COMMAND…`: serve a program that uses the `webmon` Python module. The program
 * runs as our child with the module importable (`PYTHONPATH`) and the attach address and this run's
 * secret in its environment; each `monitor.start()` in it (or in its children) attaches its manager as
 * a source (`http/attach-source.ts`). webmon ends when the program does, with its exit status.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:os';
import { generateToken, isLoopbackHostName } from '@webmon/relay';
import type { FileRecorder } from '@webmon/recorder';
import type { Io } from './logger.js';
import { WebmonError, WebmonErrorCode } from './errors.js';
import { startWebmonServer } from './http/server.js';
import type { WebmonOptions } from './options.js';
import { loadPages } from './pages.js';
import { finishRecording, recordingSchemas, startRecording } from './recording.js';
import { ASSETS_DIR, DIST_DIR, RELAY_LIMITS, defaultPages, logInternalError, pageSearchPaths, pythonPath, takeSignals } from './serving.js';
import { Sources, sourceSpecs } from './sources.js';
import { RateMeter, formatStatus, startStatusLine, type RateSnapshot } from './status-line.js';

/** Environment the program gets (read by the Python module, `webmon/_monitor.py`). */
export const RUN_ENV = { url: 'WEBMON_RUN_URL', token: 'WEBMON_RUN_TOKEN' } as const;

export async function runProgram(options: WebmonOptions, io: Io, run: { command: string[] }): Promise<number> {
  const { logger } = io;
  const pages = loadPages(DIST_DIR, options.pages, pageSearchPaths(options), defaultPages(options, true));
  const token = isLoopbackHostName(options.host) ? undefined : generateToken();
  // The program's secret: whoever has it may make webmon connect to a port of their choosing.
  const runToken = randomBytes(24).toString('base64url');
  const signals = takeSignals();
  let sources: Sources | undefined;
  let meter: RateMeter | undefined;
  let shownUrl = '';
  const server = await startWebmonServer({
    host: options.host,
    port: options.port,
    pages,
    assetsDir: ASSETS_DIR,
    sourceLabel: 'the program',
    flightRecorderBytes: options.flightRecorderBytes,
    rawImageHz: options.recordRawImageHz,
    schemas: recordingSchemas(),
    onInternalError: (error, request) => logInternalError(logger, error, request),
    relay: { ...(token === undefined ? {} : { token }), ...RELAY_LIMITS },
    status: () => ({
      napari: sources?.primary?.state ?? 'waiting',
      program: run.command,
      sources: sources?.status() ?? [],
      rates: meter?.rates,
      counters: sources?.counters(),
      rings: sources?.rings(),
      pages: pages.map((page) => ({ id: page.id, title: page.title, origin: page.origin })),
    }),
    sourceAttach: {
      token: runToken,
      attach: async (request) => {
        if (sources === undefined) throw new Error('webmon is starting');
        const prefix = await sources.attach(request.name, { host: '127.0.0.1', port: request.port }, request.authkey, request.pid);
        logger.info(`program ${request.pid === undefined ? '' : `pid ${request.pid} `}attached: topics ${prefix}.*`);
        return { prefix, url: shownUrl };
      },
    },
  }).catch((error: unknown) => {
    signals.release();
    throw error;
  });
  let recorder: FileRecorder | undefined;
  if (options.record !== undefined) {
    try {
      recorder = await startRecording(server.relay, options.record, logger, options.recordRawImageHz);
    } catch (error) {
      signals.release();
      await server.close();
      throw error;
    }
  }
  sources = new Sources(sourceSpecs(options), server.relay, options, logger);
  const active = sources;
  try {
    await active.start();
  } catch (error) {
    signals.release();
    await active.close();
    await finishRecording(recorder, logger);
    await server.close();
    throw error;
  }
  meter = new RateMeter(() => active.counters());
  shownUrl = token === undefined ? server.url : `${server.url}#token=${token}`;
  io.out(`webmon: serving ${shownUrl} (running ${run.command.join(' ')}; pages: ${pages.map((page) => `/${page.id}`).join(' ')})`);

  // The program reaches us on loopback whatever --host says (the attach route takes loopback peers only).
  const attachUrl = `http://${options.host.includes(':') && isLoopbackHostName(options.host) ? '[::1]' : '127.0.0.1'}:${server.port}/`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PYTHONPATH: pythonPath(),
    [RUN_ENV.url]: attachUrl,
    [RUN_ENV.token]: runToken,
  };
  delete env['NAPARI_MON_CLIENT'];
  const child = spawn(run.command[0] as string, run.command.slice(1), { stdio: 'inherit', env });
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', (error) => reject(new WebmonError(WebmonErrorCode.RUN_FAILED, `cannot run ${JSON.stringify(run.command[0])}: ${error.message}`, { cause: error })));
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0))));
  });
  exited.catch(() => undefined);

  const snapshot = (): RateSnapshot => ({ napari: active.describe() || 'no program attached yet', rates: meter?.rates ?? { poll: 0, frameTime: 0, loadChunk: 0, other: 0 }, pages: server.relay.stats().connections });
  const stopStatusLine = startStatusLine(snapshot, meter, process.stderr, logger.enabled('info'));
  // SIGTERM to webmon goes on to the program; Ctrl-C in a terminal already reaches the whole process
  // group (a second SIGINT would interrupt the program's own clean-up). Either way we wait for it.
  const forward = (signal: NodeJS.Signals): void => {
    if (signal === 'SIGTERM' && child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  void signals.next.then((signal) => {
    logger.info(`${signal}: waiting for the program to exit`);
    forward(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
  });
  try {
    const status = await exited;
    logger.debug(`the program exited (${status}); last status: ${formatStatus(snapshot())}`);
    return status;
  } finally {
    signals.release();
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
    stopStatusLine();
    await active.close();
    await finishRecording(recorder, logger);
    await server.close();
    logger.info('stopped');
  }
}


