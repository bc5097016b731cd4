/**
 * Which Host names a webmon answers to (DNS rebinding: a page of another domain that resolves to this
 * machine sends that domain as Host). Loopback server: only names of this machine (the relay's rule).
 * Beyond loopback: the configured `--host`, and when it is a wildcard (`0.0.0.0`, `::`) this machine's
 * own addresses and host name, plus loopback names. Any other name — a DNS alias, a reverse proxy's
 * name — gets 403: bind that address explicitly or use the machine's name.
 */
import { hostname, networkInterfaces } from 'node:os';
import { hostNameOf, isLoopbackHostName } from '@webmon/relay';

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]', '']);

/** The Host names (lower case, no brackets, no port) a non-loopback server accepts besides loopback names. */
export function allowedHostNames(host: string): ReadonlySet<string> {
  const names = new Set<string>();
  const bare = (name: string): string => name.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (!WILDCARDS.has(host)) names.add(bare(host));
  else {
    const own = hostname();
    if (own) {
      names.add(bare(own));
      if (!own.includes('.')) names.add(`${bare(own)}.local`);
    }
    for (const addresses of Object.values(networkInterfaces())) {
      for (const address of addresses ?? []) names.add(bare(address.address.replace(/%.*$/, '')));
    }
  }
  return names;
}

/** Whether a request's Host header names this server (see the file comment). */
export function hostNamed(hostHeader: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (hostHeader === undefined) return false;
  const name = hostNameOf(hostHeader).toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  return isLoopbackHostName(name) || allowed.has(name);
}
