/**
 * The host manifest: what a server embeds in each page it serves (as JSON in a script element), so
 * the host knows the pages on offer, the current one and where the relay is. Checked by hand rather
 * than with zod so the host bundle stays small.
 */
import { PageError, PageErrorCode } from '../errors.js';

export interface HostManifestPage {
  id: string;
  title: string;
  description?: string;
  /** The page's URL path (e.g. `/stats`). */
  path: string;
  /** URL of the page's browser module. */
  module: string;
  topics: readonly string[];
}

export interface HostManifest {
  /** Id of the page to mount, or null (an index page: only the status is live). */
  current: string | null;
  pages: HostManifestPage[];
  /** The relay's WebSocket path, relative to the page's URL. */
  ws: string;
  /** Names the data source (the status element's title). */
  sourceLabel: string;
}

const isString = (value: unknown): value is string => typeof value === 'string';

/** Parses the embedded JSON; throws `PageError` `INVALID_HOST_MANIFEST` with a plain message. */
export function readHostManifest(text: string): HostManifest {
  const fail = (what: string): never => {
    throw new PageError(PageErrorCode.INVALID_HOST_MANIFEST, `bad page manifest (${what}); reload the page`, what);
  };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail('not JSON');
  }
  if (typeof value !== 'object' || value === null) fail('not an object');
  const record = value as Record<string, unknown>;
  const current = record['current'];
  if (current !== null && !isString(current)) fail('current');
  if (!isString(record['ws']) || !isString(record['sourceLabel'])) fail('ws');
  if (!Array.isArray(record['pages'])) fail('pages');
  const pages = (record['pages'] as unknown[]).map((page): HostManifestPage => {
    if (typeof page !== 'object' || page === null) return fail('page');
    const p = page as Record<string, unknown>;
    if (!isString(p['id']) || !isString(p['title']) || !isString(p['path']) || !isString(p['module'])) return fail('page fields');
    if (!Array.isArray(p['topics']) || !(p['topics'] as unknown[]).every(isString)) return fail('page topics');
    return {
      id: p['id'],
      title: p['title'],
      ...(isString(p['description']) ? { description: p['description'] } : {}),
      path: p['path'],
      module: p['module'],
      topics: p['topics'] as string[],
    };
  });
  return { current: current as string | null, pages, ws: record['ws'] as string, sourceLabel: record['sourceLabel'] as string };
}
