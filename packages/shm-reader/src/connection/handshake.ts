/**
 * The mutual HMAC challenge of `multiprocessing.connection` (WIRE §1.2), as pure functions.
 *
 * Two forms exist on the wire:
 * - legacy (3.8–3.11): the challenge body is 20 random bytes, the answer is the raw 16-byte HMAC-MD5;
 * - modern (3.12+): the body is `{sha256}` + 40 random bytes, the answer is `{sha256}` + HMAC-SHA256
 *   over the whole body (prefix included).
 * We answer whatever the server asks, and challenge the server in the same form, so a 3.11 server gets
 * exactly the exchange a 3.11 client would produce and a 3.12+ server the modern one.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const CHALLENGE = Buffer.from('#CHALLENGE#', 'ascii');
export const WELCOME = Buffer.from('#WELCOME#', 'ascii');
export const FAILURE = Buffer.from('#FAILURE#', 'ascii');

/** CPython's `_ALLOWED_DIGESTS`, mapped to node's hash names. */
const ALLOWED_DIGESTS: Readonly<Record<string, string>> = {
  md5: 'md5',
  sha256: 'sha256',
  sha384: 'sha384',
  sha3_256: 'sha3-256',
  sha3_384: 'sha3-384',
};
/** Messages of these lengths are legacy raw-MD5 (a 20-byte challenge or a 16-byte answer). */
const LEGACY_LENGTHS = new Set([16, 20]);
/** `_MAX_DIGEST_LEN`: the `}` must sit within the first 10 bytes. */
const MAX_DIGEST_NAME = 8;

export type ChallengeForm = 'legacy' | 'modern';

export class HandshakeError extends Error {}

/** `_get_digest_name_and_payload`: '' means legacy raw MD5. Throws on an unknown prefix. */
function digestNameOf(message: Uint8Array): string {
  if (LEGACY_LENGTHS.has(message.byteLength)) return '';
  if (message[0] === 0x7b /* { */) {
    const limit = Math.min(message.byteLength, MAX_DIGEST_NAME + 2);
    for (let i = 1; i < limit; i++) {
      if (message[i] === 0x7d /* } */) {
        const name = Buffer.from(message.subarray(1, i)).toString('latin1');
        if (name in ALLOWED_DIGESTS) return name;
        break;
      }
    }
  }
  throw new HandshakeError(`unsupported digest in challenge/response (${message.byteLength} bytes)`);
}

function hmac(name: string, key: Uint8Array, message: Uint8Array): Buffer {
  return createHmac(ALLOWED_DIGESTS[name] ?? 'md5', key).update(message).digest();
}

/**
 * Answers a server challenge body `m` (the payload after `#CHALLENGE#`) like CPython 3.12's
 * `_create_response`, which also matches 3.8–3.11 for their 20-byte challenges.
 */
export function answerChallenge(key: Uint8Array, m: Uint8Array): { response: Buffer; form: ChallengeForm } {
  const name = digestNameOf(m);
  if (name === '') return { response: hmac('md5', key, m), form: 'legacy' };
  return { response: Buffer.concat([Buffer.from(`{${name}}`, 'latin1'), hmac(name, key, m)]), form: 'modern' };
}

/** A challenge body of the given form: 20 random bytes, or `{sha256}` + 40 random bytes. */
export function makeChallenge(form: ChallengeForm): Buffer {
  if (form === 'legacy') return randomBytes(20);
  return Buffer.concat([Buffer.from('{sha256}', 'latin1'), randomBytes(40)]);
}

/**
 * Checks the server's answer to our challenge `m` with CPython 3.12's `_verify_challenge` rules:
 * a 16/20-byte answer is raw HMAC-MD5; otherwise `{name}` + MAC with any allowed digest, compared
 * in constant time. (A 3.8–3.11 server only ever sends raw MD5.)
 */
export function verifyResponse(key: Uint8Array, m: Uint8Array, response: Uint8Array): boolean {
  let name: string;
  try {
    name = digestNameOf(response);
  } catch {
    return false;
  }
  const mac = name === '' ? response : response.subarray(name.length + 2);
  const expected = hmac(name === '' ? 'md5' : name, key, m);
  return mac.byteLength === expected.byteLength && timingSafeEqual(mac, expected);
}

export function startsWith(data: Uint8Array, prefix: Uint8Array): boolean {
  if (data.byteLength < prefix.byteLength) return false;
  for (let i = 0; i < prefix.byteLength; i++) if (data[i] !== prefix[i]) return false;
  return true;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && startsWith(a, b);
}
