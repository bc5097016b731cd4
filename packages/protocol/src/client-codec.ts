/**
 * What a client needs to speak webmon.v1 text frames: read the server's messages, write its own. The
 * checks are the hand-written ones of `fast-check.ts` (same verdict as the zod schemas, proved by a
 * property test), so a browser bundle of the relay client carries no zod.
 */
import type { ClientMessage, ServerMessage } from './browser.js';
import type { ArrayView } from './views.js';
import { ProtocolError, ProtocolErrorCode, type ProtocolIssue } from './errors.js';
import { checkClientMessage, checkServerMessage } from './fast-check.js';
import { parseJsonText } from './json-text.js';


/**
 * Parses a text frame from the server. Throws `ProtocolError` (`INVALID_JSON` / `INVALID_MESSAGE`, with
 * the path of the first problem). The message is returned as parsed: fields a later minor version adds
 * are kept, not stripped.
 */
export function parseServerMessage(text: string): ServerMessage {
  const value = parseJsonText(text);
  let issue: ProtocolIssue | undefined;
  try {
    issue = checkServerMessage(value);
  } catch (error) {
    // Only a payload nested deeper than the stack allows gets here (zod overflows on it as well).
    throw new ProtocolError(ProtocolErrorCode.INVALID_MESSAGE, 'invalid server message: nested too deeply to check', { cause: error });
  }
  if (issue !== undefined) throw ProtocolError.fromIssue(ProtocolErrorCode.INVALID_MESSAGE, 'server message', issue);
  return value as ServerMessage; // checked above: never a bare cast of wire data
}

/**
 * Serialises a client message after checking it, so a bad command name or a non-JSON argument is refused
 * here rather than by the server. Fields the message type does not have are left out, as zod would strip them.
 */
export function encodeClientMessage(message: ClientMessage): string {
  const issue = checkClientMessage(message);
  if (issue !== undefined) throw ProtocolError.fromIssue(ProtocolErrorCode.INVALID_MESSAGE, 'client message', issue);
  return JSON.stringify(fieldsOf(message));
}

/** Only the message type's own fields (undefined ones vanish in JSON.stringify). */
function fieldsOf(message: ClientMessage): ClientMessage {
  switch (message.type) {
    case 'subscribe':
      return { type: 'subscribe', id: message.id, topics: message.topics, window: message.window, view: message.view && viewFields(message.view) };
    case 'unsubscribe':
      return { type: 'unsubscribe', id: message.id, topics: message.topics };
    case 'command':
      return { type: 'command', id: message.id, name: message.name, args: message.args, topic: message.topic };
    case 'ping':
      return { type: 'ping', id: message.id, time: message.time };
    case 'handled':
      return { type: 'handled', topic: message.topic, seq: message.seq };
    case 'view':
      return { type: 'view', id: message.id, topic: message.topic, view: message.view && viewFields(message.view) };
    case 'received':
      return { type: 'received', bytes: message.bytes };
  }
}

/** A view's own fields, nested objects included (zod strips unknown keys at every level). */
function viewFields({ maxShape, region, dtype, resample }: ArrayView): ArrayView {
  return { maxShape: [maxShape[0], maxShape[1]], region: region && { y0: region.y0, x0: region.x0, y1: region.y1, x1: region.x1 }, dtype, resample };
}
