/** The manifest the server embeds in every page (see `http-server.ts`), read and checked by the shell. */
export interface ManifestPage {
  id: string;
  title: string;
  description?: string;
  path: string;
  module: string;
  topics: string[];
}

export interface Manifest {
  current: string | null;
  pages: ManifestPage[];
  ws: string;
  sourceLabel: string;
}

const isString = (value: unknown): value is string => typeof value === 'string';

/** Parses the embedded JSON; throws with a plain message when it is not what this shell expects. */
export function readManifest(text: string): Manifest {
  const value: unknown = JSON.parse(text);
  const fail = (what: string): never => {
    throw new Error(`webmon: bad page manifest (${what}); reload the page`);
  };
  if (typeof value !== 'object' || value === null) fail('not an object');
  const record = value as Record<string, unknown>;
  const current = record['current'];
  if (current !== null && !isString(current)) fail('current');
  if (!isString(record['ws']) || !isString(record['sourceLabel'])) fail('ws');
  if (!Array.isArray(record['pages'])) fail('pages');
  const pages = (record['pages'] as unknown[]).map((page): ManifestPage => {
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
