/**
 * `POST /api/replay`: the header timeline's controls (play, pause, seek, speed, step) while webmon replays
 * a recording. The endpoint exists only when the server is given a `ReplayControl` (`webmon replay`); the
 * control moves the replay, and the relay's `timeline` tells every page where it is now.
 *
 * Same-origin only, like `/api/recording`: a POST must carry an Origin naming this server, so another site
 * cannot scrub someone's replay blind. The body is small JSON, read with a bound and checked field by field.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TimelineLimits } from '@webmon/protocol';
import { isSameOrigin, readSmallBody } from './request-checks.js';
import { SECURITY_HEADERS, sendText } from './responses.js';

export const REPLAY_PATH = '/api/replay';
/** Largest request body: an action and one number. */
const MAX_BODY_CHARS = 1024;

/** What the replay driver offers the timeline's controls. Each call is answered once the replay took it. */
export interface ReplayControl {
  play(): void;
  pause(): void;
  /** Moves the cursor (ms on the recording's clock): the pages start again from the values there. */
  seek(cursorMs: number): Promise<void>;
  /** A factor of the recording's pace, 0.25–8 (`TimelineLimits`). */
  setSpeed(speed: number): void;
  /** One message back or forward (pauses). */
  step(direction: 1 | -1): Promise<void>;
}

/** The controls' requests, as checked. */
export type ReplayRequest =
  | { action: 'play' }
  | { action: 'pause' }
  | { action: 'seek'; cursor: number }
  | { action: 'speed'; speed: number }
  | { action: 'step'; direction: 1 | -1 };

/** The code a refused request's text starts with (stable: listed in the app README). */
export const BAD_REPLAY_REQUEST = 'WEBMON_BAD_REPLAY_REQUEST';

export function handleReplay(request: IncomingMessage, response: ServerResponse, replay: ReplayControl | undefined): void {
  if (!isSameOrigin(request)) {
    request.resume();
    sendText(response, 403, 'cross-origin request refused\n');
    return;
  }
  if (replay === undefined) {
    request.resume();
    sendText(response, 404, 'not replaying a recording\n');
    return;
  }
  readSmallBody(request, MAX_BODY_CHARS, (body) => {
    const parsed = parseReplayRequest(body);
    if (typeof parsed === 'string') {
      sendText(response, 400, `${BAD_REPLAY_REQUEST}: ${parsed}\n`);
      return;
    }
    run(replay, parsed).then(
      () => response.writeHead(204, { ...SECURITY_HEADERS, 'cache-control': 'no-store' }).end(),
      (error: unknown) => {
        if (!response.headersSent) sendText(response, 500, `the replay could not do it: ${(error as Error).message}\n`);
      },
    );
  });
}

async function run(replay: ReplayControl, request: ReplayRequest): Promise<void> {
  switch (request.action) {
    case 'play':
      return replay.play();
    case 'pause':
      return replay.pause();
    case 'seek':
      return replay.seek(request.cursor);
    case 'speed':
      return replay.setSpeed(request.speed);
    case 'step':
      return replay.step(request.direction);
  }
}

/** The request, or why not (the text after the code). */
export function parseReplayRequest(body: string): ReplayRequest | string {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return 'expected JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'expected a JSON object';
  const { action, cursor, speed, direction } = value as Record<string, unknown>;
  switch (action) {
    case 'play':
    case 'pause':
      return { action };
    case 'seek':
      if (typeof cursor !== 'number' || !Number.isFinite(cursor) || cursor < 0) return 'seek needs a cursor: ms since the epoch (a finite number >= 0)';
      return { action, cursor };
    case 'speed':
      if (typeof speed !== 'number' || !(speed >= TimelineLimits.minSpeed && speed <= TimelineLimits.maxSpeed)) {
        return `speed must be a number from ${TimelineLimits.minSpeed} to ${TimelineLimits.maxSpeed}`;
      }
      return { action, speed };
    case 'step':
      if (direction !== 1 && direction !== -1) return 'step needs a direction: 1 or -1';
      return { action, direction };
    default:
      return 'action must be one of "play", "pause", "seek", "speed", "step"';
  }
}
