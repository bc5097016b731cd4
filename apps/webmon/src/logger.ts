/**
 * A levelled logger for the terminal: messages to stderr, the URL to stdout (see `cli.ts`).
 *
 * Every message is escaped here, not where it is built: topic names, ring names, `napari_data` keys and
 * Python's error texts all come from a peer, and a newline or an ANSI escape in one of them could forge
 * a log line (`webmon error [...]`) or rewrite the terminal. Escaping in one place covers messages
 * written by the packages too (the napari bridge logs through this logger).
 */
import type { LogLevel } from './options.js';

const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/**
 * C0 controls (newline, carriage return and ESC included), DEL, C1 controls (0x9b is a one-byte CSI
 * to some terminals), the Unicode line and paragraph separators and the bidirectional overrides and
 * isolates (which reorder what is shown).
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `text` on one line, with every control character written as an escape (`\n`, `\x1b`, `\u202e`). */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (char) => {
    const named = NAMED[char];
    if (named !== undefined) return named;
    const code = char.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

export interface Logger {
  readonly level: LogLevel;
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
  enabled(level: LogLevel): boolean;
}

export function createLogger(level: LogLevel, write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const log = (at: LogLevel, message: string): void => {
    if (ORDER[at] > ORDER[level]) return;
    const prefix = at === 'info' ? 'webmon' : `webmon ${at}`;
    // The one newline is ours, after the escaped message.
    write(`${prefix}: ${escapeControl(message)}\n`);
  };
  return {
    level,
    error: (message) => log('error', message),
    warn: (message) => log('warn', message),
    info: (message) => log('info', message),
    debug: (message) => log('debug', message),
    enabled: (at) => ORDER[at] <= ORDER[level],
  };
}

/** The terminal as a run writes to it: the URL on stdout (the one line scripts read), the rest through the logger. */
export interface Io {
  out: (line: string) => void;
  logger: Logger;
}
