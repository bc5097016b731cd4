/** Where the bridge says what happened; the app passes its terminal logger, tests a recorder. */
export interface BridgeLogger {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
}

export const silentLogger: BridgeLogger = { info: () => undefined, warn: () => undefined, debug: () => undefined };
