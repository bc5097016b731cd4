/**
 * Checks made before a WebSocket is accepted: origin (cross-site WebSocket hijacking), host
 * (DNS rebinding), token. Node only.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';

/** Prefix of the subprotocol that carries the token (`webmon.token.<token>`), since browsers cannot set headers. */
export const TOKEN_PROTOCOL_PREFIX = 'webmon.token.';

/** Characters allowed in a token: RFC 7230 token characters that survive a URL query unescaped. */
export const TOKEN_PATTERN = /^[A-Za-z0-9._~-]{16,256}$/;

/** A fresh random token (32 bytes, base64url) for `RelayOptions.token`. */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const bare = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (bare === '::1') return true;
  return isIP(bare) === 4 && bare.startsWith('127.');
}

/** True for host names that can only mean this machine (so a rebinding attacker's name never passes). */
export function isLoopbackHostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost') || isLoopbackAddress(name);
}

/** Splits a Host header into its name, tolerating `[::1]:port`. */
export function hostNameOf(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(0, end + 1);
  }
  const colon = host.lastIndexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Compares in constant time (hashing first makes the lengths equal, so length leaks nothing either). */
export function tokensEqual(offered: string, expected: string): boolean {
  return timingSafeEqual(digest(offered), digest(expected));
}

/**
 * A request's target (path and query) as a URL, or undefined when it is not a path (`*`, the
 * absolute form a proxy is sent, garbage). The path is appended to a fixed origin rather than
 * resolved against it: resolved, `//x/viewer` names the host `x` and the path `/viewer`, and `//`
 * throws — which, in an `upgrade` listener, took the process down (any web page can open
 * `ws://127.0.0.1:port//`).
 */
export function requestTarget(target: string | undefined): URL | undefined {
  const raw = target ?? '/';
  if (!raw.startsWith('/')) return undefined;
  try {
    return new URL(`http://request.invalid${raw}`);
  } catch {
    return undefined;
  }
}

/** The token a client offered, from the subprotocol list or the `token` query parameter. */
export function offeredToken(request: IncomingMessage, offeredProtocols: ReadonlySet<string>): string | undefined {
  for (const protocol of offeredProtocols) {
    if (protocol.startsWith(TOKEN_PROTOCOL_PREFIX)) return protocol.slice(TOKEN_PROTOCOL_PREFIX.length);
  }
  return requestTarget(request.url)?.searchParams.get('token') ?? undefined;
}

export type OriginPolicy = 'same-origin' | '*' | readonly string[];

/**
 * Whether the `Origin` of an upgrade request may connect.
 * - `same-origin`: the Origin's host equals the Host header (the page was served by this server).
 * - a list: exact `scheme://host[:port]` matches.
 * - `*`: any (only sensible with a token).
 * A request without Origin comes from a non-browser client (browsers always send it) and passes
 * unless `requireOrigin`.
 */
export function originAllowed(request: IncomingMessage, policy: OriginPolicy, requireOrigin: boolean): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return !requireOrigin;
  if (policy === '*') return true;
  if (policy === 'same-origin') {
    const host = request.headers.host;
    if (host === undefined) return false;
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      return false;
    }
    return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.host.toLowerCase() === host.toLowerCase();
  }
  const normalised = origin.toLowerCase();
  return policy.some((allowed) => allowed.toLowerCase() === normalised);
}

/**
 * DNS-rebinding guard: on a loopback connection the Host header must name this machine
 * (`localhost`, `127.x.y.z`, `[::1]`) or one of `allowedHosts`. A rebinding page's Host is its own
 * domain, which would otherwise satisfy `same-origin`.
 */
export function hostAllowed(request: IncomingMessage, allowedHosts: readonly string[]): boolean {
  const host = request.headers.host;
  if (host === undefined) return false;
  const name = hostNameOf(host).toLowerCase();
  if (allowedHosts.some((allowed) => allowed.toLowerCase() === name || allowed.toLowerCase() === host.toLowerCase())) return true;
  if (!isLoopbackAddress(request.socket.localAddress)) return true; // a token guards non-loopback connections
  return isLoopbackHostName(name);
}
