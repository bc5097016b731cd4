import type { WireErrorCode } from '@webmon/protocol';

/**
 * Codes of errors the relay throws locally (to the app that hosts it). Stable: part of the public API, all
 * listed in the README. Values carry the package prefix `RELAY_`; the browser client's local codes are
 * `RELAY_CLIENT_*` (`RelayClientErrorCode`, in `client.ts`). Wire codes sent to pages are `WireErrorCode`.
 */
export const RelayErrorCode = {
  /** Binding a non-loopback address without a `token`: anyone on the network could read the stream. */
  TOKEN_REQUIRED: 'RELAY_TOKEN_REQUIRED',
  /** An option is out of range or inconsistent, or `declareTopic` got an invalid topic (message says which). */
  INVALID_OPTIONS: 'RELAY_INVALID_OPTIONS',
  /** `publish`/`publishFrame` named a topic that was not declared. */
  UNKNOWN_TOPIC: 'RELAY_UNKNOWN_TOPIC',
  /** `declareTopic` with a name already declared with other options. */
  TOPIC_CONFLICT: 'RELAY_TOPIC_CONFLICT',
  /** `publish` on a binary topic, or `publishFrame` on a JSON topic. */
  WRONG_TOPIC_KIND: 'RELAY_WRONG_TOPIC_KIND',
  /** A payload that is not JSON-serialisable (cycle, BigInt, undefined), that its topic's `validate` refused, or a frame the codec refuses. */
  BAD_PAYLOAD: 'RELAY_BAD_PAYLOAD',
  /** `listen()` on a relay attached to an app's server, or called twice. */
  ALREADY_LISTENING: 'RELAY_ALREADY_LISTENING',
  /** A method was called after `close()` (or the server closed while `listen()` was starting). */
  DISPOSED: 'RELAY_DISPOSED',
} as const;
export type RelayErrorCode = (typeof RelayErrorCode)[keyof typeof RelayErrorCode];

export class RelayError extends Error {
  override name = 'RelayError';
  readonly code: RelayErrorCode;

  constructor(code: RelayErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

export function isRelayError(value: unknown): value is RelayError {
  return value instanceof RelayError;
}

/** Wire codes a command handler may answer with. */
export type CommandErrorCode = Extract<WireErrorCode, 'NO_PUBLISHER' | 'COMMAND_FAILED' | 'UNKNOWN_COMMAND' | 'BAD_COMMAND_ARGS' | 'TIMEOUT' | 'NOT_LIVE'>;

/**
 * Thrown by an `onCommand` handler to choose the wire error the page receives
 * (e.g. `NO_PUBLISHER` while its source is not connected, `NOT_LIVE` while a recording is replayed). Any other thrown error becomes `COMMAND_FAILED`.
 */
export class RelayCommandError extends Error {
  override name = 'RelayCommandError';
  readonly code: CommandErrorCode;

  constructor(code: CommandErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

export function isRelayCommandError(value: unknown): value is RelayCommandError {
  return value instanceof RelayCommandError;
}
