/**
 * The relay client's numeric options, checked before anything connects: one table of what each may be. A
 * value outside it would not fail loudly later but misbehave quietly: a backoff of 0 ms (or a factor below
 * 1) reconnects in a tight loop against a server that refuses it, a negative timeout fails every command at
 * once, a window beyond the protocol's is refused by the server on every subscribe.
 */
import { ProtocolLimits } from '@webmon/protocol';
import { BACKOFF_DEFAULTS, type BackoffOptions } from './client-connection.js';

interface Checked {
  window?: number;
  commandTimeoutMs?: number;
  maxFrameBytes?: number;
  bulkIdleMs?: number;
  backoff?: BackoffOptions;
}

const MS = 'a number of milliseconds';

/** Per option (`backoff.` for the backoff's own): its lowest and highest value, whether whole, and the words for the error. */
const RULES: [name: string, min: (options: Checked) => number, max: number, whole: boolean, must: string][] = [
  ['window', () => 0, ProtocolLimits.maxWindow, true, `an integer from 0 to ${ProtocolLimits.maxWindow}`],
  ['commandTimeoutMs', () => Number.MIN_VALUE, Infinity, false, `${MS} > 0`],
  ['maxFrameBytes', () => 1, Number.MAX_SAFE_INTEGER, true, 'a whole number of bytes > 0'],
  ['bulkIdleMs', () => 0, Infinity, false, `${MS} ≥ 0`],
  ['backoff.initialMs', () => Number.MIN_VALUE, Infinity, false, `${MS} > 0`],
  ['backoff.maxMs', (options) => options.backoff?.initialMs ?? BACKOFF_DEFAULTS.initialMs, Infinity, false, `${MS} ≥ backoff.initialMs (${BACKOFF_DEFAULTS.initialMs} by default)`],
  ['backoff.factor', () => 1, Infinity, false, 'a number ≥ 1'],
  ['backoff.jitter', () => 0, 1, false, 'a number from 0 to 1'],
];

/** What is wrong with the first option outside its range, or `undefined` when all are fine. */
export function invalidClientOption(options: Checked): string | undefined {
  for (const [name, min, max, whole, must] of RULES) {
    const [group, key] = name.split('.');
    const value: unknown = key === undefined ? options[group as keyof Checked] : (options.backoff as Record<string, unknown> | undefined)?.[key];
    if (value === undefined) continue;
    const valid = typeof value === 'number' && Number.isFinite(value) && value >= min(options) && value <= max && (!whole || Number.isInteger(value));
    if (!valid) return `${name} must be ${must}, got ${String(value)}`;
  }
  return undefined;
}
