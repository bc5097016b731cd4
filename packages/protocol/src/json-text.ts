/** Parsing a text frame's JSON, shared by the zod parsers (browser.ts) and the zod-free codec (client-codec.ts), so neither imports the other. */
import { ProtocolError, ProtocolErrorCode } from './errors.js';

/** `JSON.parse`, failing with `PROTOCOL_INVALID_JSON`. */
export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ProtocolError(ProtocolErrorCode.INVALID_JSON, `not JSON: ${(error as Error).message}`, { cause: error });
  }
}
