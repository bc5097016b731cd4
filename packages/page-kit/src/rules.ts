/**
 * The rules for a page's metadata (id, title, description, topics), shared by `definePage` (the
 * module) and `readPageManifest` (the package.json `webmon` field), so both say the same thing.
 */

export const PAGE_ID_PATTERN = /^[a-z][a-z0-9-]{0,47}$/;
/** Path segments the host serves itself. */
export const RESERVED_PAGE_IDS: readonly string[] = ['api', 'assets', 'pages', 'ws', 'index'];
// Same rule as the protocol's TopicNameSchema, plus a trailing `*` pattern (`prefix.*`, or `*` for every
// topic); repeated here so a page bundle does not pull in zod.
const TOPIC_PATTERN = /^(?:[A-Za-z0-9_.:/-]{1,128}\*?|\*)$/;
const MAX_TITLE_LENGTH = 64;
const MAX_DESCRIPTION_LENGTH = 256;
const MAX_TOPICS = 64;

/** A broken rule: which field, and what it must be. */
export interface FieldProblem {
  field: string;
  message: string;
}

/** The first metadata field that breaks a rule, or undefined when all are fine. */
export function pageMetadataProblem(fields: { id?: unknown; title?: unknown; description?: unknown; topics?: unknown }): FieldProblem | undefined {
  const { id, title, description, topics } = fields;
  if (typeof id !== 'string' || !PAGE_ID_PATTERN.test(id)) return { field: 'id', message: `must match ${PAGE_ID_PATTERN}` };
  if (RESERVED_PAGE_IDS.includes(id)) return { field: 'id', message: `is reserved (${RESERVED_PAGE_IDS.join(', ')})` };
  if (typeof title !== 'string' || title.trim() === '' || title.length > MAX_TITLE_LENGTH) return { field: 'title', message: `must be 1–${MAX_TITLE_LENGTH} characters` };
  if (description !== undefined && (typeof description !== 'string' || description.length > MAX_DESCRIPTION_LENGTH)) {
    return { field: 'description', message: `must be a string of at most ${MAX_DESCRIPTION_LENGTH} characters` };
  }
  if (!Array.isArray(topics) || topics.length > MAX_TOPICS) return { field: 'topics', message: `must be an array of at most ${MAX_TOPICS} topic names` };
  for (const topic of topics as unknown[]) {
    if (typeof topic !== 'string' || !TOPIC_PATTERN.test(topic)) return { field: 'topics', message: `has an invalid name ${JSON.stringify(topic)}` };
  }
  return undefined;
}
