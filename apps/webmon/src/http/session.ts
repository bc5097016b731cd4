/**
 * Beyond loopback every HTTP answer needs the token, not just the WebSocket: pages, modules, source maps
 * and `/api/status` describe napari (its manager port, ring names, counters). The user gets the token in
 * the URL fragment, which browsers never send; a small script on the authorisation page trades it once
 * for a session cookie (`POST /api/session`), which every later request carries.
 *
 * The cookie holds a random session secret, not the token: the token is what the user copies around, the
 * secret only lives in the browser's cookie jar (HttpOnly: no script of a page can read it) and dies with
 * the process. Both grant the same access; one secret serves every browser (nothing to store per login).
 * Cookies ignore ports, so the cookie's name carries the port: two webmons on one host do not overwrite
 * each other's session (but a server on another port of the same host name does receive it).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tokensEqual } from '@webmon/relay';
import { isSameOrigin, readSmallBody } from './request-checks.js';
import { SECURITY_HEADERS, sendText } from './responses.js';

export const SESSION_PATH = '/api/session';
/** A header a cross-site form cannot set, so only a script of this origin can make the exchange. */
export const SESSION_HEADER = 'x-webmon-session';
/** The authorisation page's script: public (it holds no data), served without the cookie. */
export const AUTHORIZE_SCRIPT_PATH = '/assets/authorize.js';
const MAX_BODY = 1024;

export interface SessionGate {
  /** Whether the request carries this webmon's session cookie (compared in constant time). */
  admits(request: IncomingMessage): boolean;
  /** `POST /api/session` with `{"token": "…"}`: sets the cookie when the token is right. */
  exchange(request: IncomingMessage, response: ServerResponse): void;
}

export function createSessionGate(token: string): SessionGate {
  const secret = randomBytes(32).toString('base64url');
  return {
    admits(request) {
      const value = cookieValue(request.headers.cookie, cookieName(request));
      return value !== undefined && tokensEqual(value, secret);
    },
    exchange(request, response) {
      if (request.headers[SESSION_HEADER] !== '1' || !isSameOrigin(request)) {
        sendText(response, 403, 'session refused\n');
        return;
      }
      readSmallBody(request, MAX_BODY, (body) => {
        let offered: unknown;
        try {
          offered = (JSON.parse(body) as { token?: unknown }).token;
        } catch {
          offered = undefined;
        }
        if (typeof offered !== 'string' || !tokensEqual(offered, token)) {
          sendText(response, 401, 'token refused\n');
          return;
        }
        response.writeHead(204, {
          ...SECURITY_HEADERS,
          'cache-control': 'no-store',
          'set-cookie': `${cookieName(request)}=${secret}; HttpOnly; SameSite=Strict; Path=/`,
        });
        response.end();
      });
    },
  };
}

function cookieName(request: IncomingMessage): string {
  return `webmon_session_${request.socket.localPort ?? 0}`;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The authorisation page's script (no inline scripts: the CSP forbids them). It reads `#token=` from the
 * fragment, trades it for the cookie and reloads the same address without the fragment.
 */
export const AUTHORIZE_SCRIPT = `const out = document.getElementById('webmon-authorize');
const say = (text) => { if (out) out.textContent = text; };
function signIn() {
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  if (!token) return;
  say('signing in…');
  fetch(${JSON.stringify(SESSION_PATH)}, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', ${JSON.stringify(SESSION_HEADER)}: '1' },
    body: JSON.stringify({ token }),
  }).then((response) => {
    if (response.ok) location.replace(location.pathname + location.search);
    else say('This token was refused. webmon prints a new address (with a new token) each time it starts.');
  }, () => say('webmon could not be reached.'));
}
signIn();
// A token pasted into the address bar of this page changes only the fragment: no new load.
window.addEventListener('hashchange', signIn);
`;

export function renderAuthorize(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Authorisation needed · webmon</title>
<link rel="stylesheet" href="/assets/shell.css">
<script type="module" src="${AUTHORIZE_SCRIPT_PATH}"></script>
</head>
<body>
<main class="index"><h1>webmon</h1>
<p>This webmon listens beyond this machine and serves only browsers that have its token.
Open the address it printed when it started (the one ending in <code>#token=…</code>).</p>
<p><output id="webmon-authorize" aria-live="polite">authorisation needed</output></p>
</main>
</body>
</html>
`;
}

export function sendAuthorizeScript(response: ServerResponse): void {
  response.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' });
  response.end(AUTHORIZE_SCRIPT);
}
