/**
 * `webmon replay <file.mcap>`: the same pages, served from a recording. The recorder package reads the
 * file and plays it into the relay (`replayToRelay`); this file is the glue: the HTTP server with the
 * timeline endpoint, commands refused, one status per recorded source, the end of the run.
 */
import { basename } from 'node:path';
import { RelayCommandError } from '@webmon/relay';
import { isRecorderError, openRecording, replayToRelay, type Recording, type ReplayPlayer } from '@webmon/recorder';
import type { Io } from './logger.js';
import { WebmonError, WebmonErrorCode } from './errors.js';
import { startWebmonServer, type WebmonServer } from './http/server.js';
import type { WebmonOptions } from './options.js';
import { loadPages } from './pages.js';
import { recordingSchemas } from './recording.js';
import { ASSETS_DIR, DIST_DIR, RELAY_LIMITS, defaultPages, logInternalError, pageSearchPaths, takeSignals } from './serving.js';

/** The sources of a recording: the prefixes of its topic names (`napari.frame_time` → `napari`). */
export function recordedSources(recording: Recording): string[] {
  return [...new Set(recording.topics.map((topic) => topic.name.split('.')[0] ?? topic.name))];
}

export async function runReplay(options: WebmonOptions, io: Io, file: string): Promise<number> {
  const { logger } = io;
  let recording: Recording;
  try {
    recording = await openRecording(file);
  } catch (error) {
    if (isRecorderError(error)) throw new WebmonError(WebmonErrorCode.REPLAY_FAILED, `cannot replay ${file}: ${error.message} (${error.code})`, { cause: error });
    throw error;
  }
  const { problems } = recording;
  if (problems.truncated) logger.warn(`${file} was cut off${problems.cutAt === undefined ? '' : ` at byte ${problems.cutAt}`} (no summary): replaying up to there, with an index rebuilt from its records`);
  else if (problems.indexRebuilt) logger.warn(`${file}: its index was unreadable and was rebuilt from its records`);
  if (problems.skippedChunks > 0) logger.warn(`${file}: ${problems.skippedChunks} damaged chunk(s) skipped`);
  if (problems.unknownChannels.length > 0) logger.warn(`${file}: not replayed (not webmon topics): ${problems.unknownChannels.join(', ')}`);

  const signals = takeSignals();
  const imageTopics = recording.topics.some((topic) => topic.binary === true);
  const pages = loadPages(DIST_DIR, options.pages, pageSearchPaths(options), defaultPages(options, imageTopics));
  let player: ReplayPlayer | undefined;
  // The replay waits, paused at its start, until someone watches: it plays at the first page that connects,
  // so a page opened a few seconds after the start misses nothing. A control used before that (POST
  // /api/replay) is the user's choice and stands: the first page then does not start it.
  let waitingForPage = true;
  let pageSeen = false;
  const byUser = (): ReplayPlayer | undefined => {
    waitingForPage = false;
    return player;
  };
  const server: WebmonServer = await startWebmonServer({
    host: options.host,
    port: options.port,
    pages,
    assetsDir: ASSETS_DIR,
    sourceLabel: `the recording ${basename(file)}`,
    flightRecorderBytes: options.flightRecorderBytes,
    rawImageHz: options.recordRawImageHz,
    schemas: recordingSchemas(),
    onInternalError: (error, request) => logInternalError(logger, error, request),
    relay: { ...RELAY_LIMITS },
    status: () => ({
      napari: 'replay',
      replay: { file, ...player?.status(), problems: recording.problems, topics: recording.topics.length, messages: recording.messageCount },
      pages: pages.map((page) => ({ id: page.id, title: page.title, origin: page.origin })),
      flightRecorder: server.flightRecorder.stats(),
    }),
    replay: {
      play: () => byUser()?.play(),
      pause: () => byUser()?.pause(),
      seek: async (cursor) => byUser()?.seek(cursor),
      setSpeed: (speed) => byUser()?.setSpeed(speed),
      step: async (direction) => byUser()?.step(direction),
    },
  }).catch(async (error: unknown) => {
    signals.release();
    await recording.close();
    throw error;
  });
  const { relay } = server;
  relay.onCommand(() => {
    throw new RelayCommandError('NOT_LIVE', `this is a replay of ${basename(file)}: commands are not run`);
  });
  for (const source of recordedSources(recording)) relay.setStatus('source.connected', { source, message: `replay of ${basename(file)}` });
  const playIfWatched = (): void => {
    if (!waitingForPage || !pageSeen || player === undefined) return;
    waitingForPage = false; // once: later pages join where the cursor is
    player.play();
  };
  const stopWaiting = relay.onConnect(() => {
    pageSeen = true;
    playIfWatched();
  });
  try {
    player = await replayToRelay(recording, relay, { paused: true });
    playIfWatched(); // a page that connected while the recording was being opened
    io.out(`webmon: serving ${server.url} (replay of ${file}: ${recording.topics.length} topics, ${formatSpan(recording)}; pages: ${pages.map((page) => `/${page.id}`).join(' ')})`);
    const signal = await signals.next;
    logger.debug(`stopping (${signal})`);
  } finally {
    stopWaiting();
    signals.release();
    player?.close();
    await server.close();
    await recording.close();
  }
  logger.info('stopped');
  return 0;
}

function formatSpan(recording: Recording): string {
  const seconds = Number(recording.endTime - recording.startTime) / 1e9;
  return `${recording.messageCount} messages over ${seconds.toFixed(1)} s`;
}
