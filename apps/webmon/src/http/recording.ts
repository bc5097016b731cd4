/**
 * `POST /api/recording?seconds=N`: the flight recorder's last N seconds as an MCAP download. Same-origin
 * only: a POST must carry an Origin naming this server (browsers always send it on POST), so another
 * site cannot make webmon spend time and memory writing files, even blind.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RecorderErrorCode, isRecorderError, type FlightRecorder } from '@webmon/recorder';
import { isSameOrigin } from './request-checks.js';
import { SECURITY_HEADERS, sendText } from './responses.js';

export const RECORDING_PATH = '/api/recording';
/** What a save asks for when it names no duration. */
export const DEFAULT_SAVE_SECONDS = 60;

export function handleRecording(request: IncomingMessage, response: ServerResponse, url: URL, flight: FlightRecorder | undefined): void {
  if (!isSameOrigin(request)) {
    sendText(response, 403, 'cross-origin request refused\n');
    return;
  }
  if (flight === undefined || !flight.enabled) {
    sendText(response, 409, 'the flight recorder is off (--flight-recorder-bytes 0)\n');
    return;
  }
  const given = url.searchParams.get('seconds');
  const seconds = given === null ? DEFAULT_SAVE_SECONDS : Number(given);
  // The body is ignored; drain it so the socket can be reused.
  request.resume();
  // A save of hundreds of MiB takes seconds in its writer thread while the socket is silent: the server's
  // inactivity cut (socket-limits.ts) must not end it. Restored once the answer is out.
  const socket = request.socket;
  const idleMs = socket.timeout ?? 0;
  socket.setTimeout(0);
  response.once('close', () => {
    if (!socket.destroyed) socket.setTimeout(idleMs);
  });
  flight.save(seconds).then(
    (bytes) => {
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      response.writeHead(200, {
        ...SECURITY_HEADERS,
        'content-type': 'application/octet-stream',
        'content-length': String(bytes.byteLength),
        'content-disposition': `attachment; filename="webmon-${stamp}.mcap"`,
        'cache-control': 'no-store',
      });
      response.end(bytes);
    },
    (error: unknown) => {
      if (response.headersSent) return;
      if (isRecorderError(error) && error.code === RecorderErrorCode.INVALID_OPTIONS) sendText(response, 400, `${error.message}\n`);
      else sendText(response, 500, `cannot save the recording: ${(error as Error).message}\n`);
    },
  );
}
