/**
 * `NAPARI_MON_CLIENT`: napari passes its clients base64(JSON `{"server_port": N, "shared_list_name": "psm_…"}`)
 * in the environment (WIRE §0). Everything in it is checked: it comes from outside the process.
 */
import { NapariError, NapariErrorCode } from '../errors.js';

export interface NapariClientConfig {
  serverPort: number;
  /** Name of the older ShareableList `[frame, json, json]`, when napari created one. */
  sharedListName?: string;
}

/** POSIX shm names as CPython makes them (`psm_` + hex); we accept any name without a slash. */
const SHM_NAME = /^[A-Za-z0-9_.-]{1,200}$/;
const MAX_ENV_LENGTH = 4096;

function bad(message: string, cause?: unknown): NapariError {
  return new NapariError(NapariErrorCode.BAD_CLIENT_CONFIG, `NAPARI_MON_CLIENT: ${message}`, cause === undefined ? undefined : { cause });
}

export function parseNapariClientConfig(encoded: string): NapariClientConfig {
  const text = encoded.trim();
  if (text.length === 0) throw bad('empty');
  if (text.length > MAX_ENV_LENGTH) throw bad(`longer than ${MAX_ENV_LENGTH} characters`);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) throw bad('not base64');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64').toString('utf8'));
  } catch (error) {
    throw bad('base64 of something that is not JSON', error);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('expected a JSON object');
  const record = value as Record<string, unknown>;
  const port = record['server_port'];
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw bad(`server_port must be an integer 1–65535, got ${JSON.stringify(port)}`);
  }
  const name = record['shared_list_name'];
  if (name === undefined || name === null) return { serverPort: port };
  if (typeof name !== 'string' || !SHM_NAME.test(name)) throw bad(`shared_list_name must be a shared memory name, got ${JSON.stringify(name)}`);
  return { serverPort: port, sharedListName: name };
}

/** Encodes a config the way napari does (for tests and for launching clients). */
export function encodeNapariClientConfig(config: NapariClientConfig): string {
  const json: Record<string, unknown> = { server_port: config.serverPort };
  if (config.sharedListName !== undefined) json['shared_list_name'] = config.sharedListName;
  return Buffer.from(JSON.stringify(json), 'ascii').toString('base64');
}
