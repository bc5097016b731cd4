/** A levelled logger for the terminal: messages to stderr, the URL to stdout (see `cli.ts`). */
import type { LogLevel } from './options.js';

const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

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
    write(`${prefix}: ${message}\n`);
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
