/**
 * Which fields are charted, and how that choice is written in the page's URL so a reload or a shared
 * link shows the same charts. The query string, not the fragment: webmon hands its token in the
 * fragment (`#token=`), and a shared link should carry the view without the secret.
 *
 * One `chart` parameter per chart, its fields separated by `,`; a field is `<topic>~<path>`, the path's
 * keys joined by `.`:
 *
 *     /explorer?chart=app.frame_time~delta_ms&chart=app.data.my_plugin~stats.count,app.load_chunk~size
 *
 * Topic names never contain `~` or `,` (the protocol allows letters, digits and `_ . : / -`); a key that
 * contains `%`, `.`, `,` or `~` has those characters percent-escaped, so any key round-trips.
 */

/** A key of an object, or an index into an array. */
export type PathSegment = string | number;

export interface FieldRef {
  topic: string;
  /** Keys from the topic's value down to the number (empty: the value itself is the number). */
  path: readonly PathSegment[];
}

/** The query parameter that holds one chart. */
export const CHART_PARAM = 'chart';

const escapeSegment = (segment: PathSegment): string => String(segment).replace(/[%.,~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
const unescapeSegment = (text: string): string => text.replace(/%([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));

/** A path as one string: its keys joined by `.` (the tree's `data-path`, and the URL's field keys). */
export const pathKey = (path: readonly PathSegment[]): string => path.map(escapeSegment).join('.');

/** `app.frame_time~delta_ms`: a field as written in the URL (and used as its series id). */
export function fieldKey(field: FieldRef): string {
  return `${field.topic}~${pathKey(field.path)}`;
}

/** The label a chart legend shows: `app.frame_time.delta_ms`, indices in brackets. */
export function fieldLabel(field: FieldRef): string {
  return field.path.reduce<string>((text, segment) => (typeof segment === 'number' ? `${text}[${segment}]` : `${text}.${segment}`), field.topic);
}

const TOPIC = /^[A-Za-z0-9_.:/-]{1,128}$/;

/**
 * Reads one field written by `fieldKey`; `undefined` for text that is not one (a hand-edited URL must
 * not break the page). Segments made only of digits are array indices.
 */
export function parseFieldKey(text: string): FieldRef | undefined {
  const at = text.indexOf('~');
  if (at <= 0) return undefined;
  const topic = text.slice(0, at);
  if (!TOPIC.test(topic)) return undefined;
  const rest = text.slice(at + 1);
  const path = rest === '' ? [] : rest.split('.').map((part) => (/^(0|[1-9]\d{0,8})$/.test(part) ? Number(part) : unescapeSegment(part)));
  return { topic, path };
}

/** The charts a URL's query asks for, each a list of fields (duplicates and unreadable fields dropped). */
export function readCharts(search: string): FieldRef[][] {
  const charts: FieldRef[][] = [];
  for (const value of new URLSearchParams(search).getAll(CHART_PARAM)) {
    const seen = new Set<string>();
    const fields: FieldRef[] = [];
    for (const part of value.split(',')) {
      const field = parseFieldKey(part);
      if (field === undefined || seen.has(fieldKey(field))) continue;
      seen.add(fieldKey(field));
      fields.push(field);
    }
    if (fields.length > 0) charts.push(fields);
  }
  return charts;
}

/**
 * `search` with its `chart` parameters replaced by `charts` (other parameters kept, in order). Written
 * by hand rather than with `URLSearchParams.toString()`, which would escape `~` and `,` and make the
 * link unreadable.
 */
export function writeCharts(search: string, charts: readonly (readonly FieldRef[])[]): string {
  const params = new URLSearchParams(search);
  params.delete(CHART_PARAM);
  const others = params.toString();
  const own = charts
    .filter((fields) => fields.length > 0)
    .map((fields) => `${CHART_PARAM}=${fields.map((field) => encodeURIComponent(fieldKey(field)).replace(/%7E/gi, '~')).join(',')}`);
  const query = [...(others === '' ? [] : [others]), ...own].join('&');
  return query === '' ? '' : `?${query}`;
}

/** The number at `path` in `value`, or `undefined` when there is none (booleans and numeric strings are not numbers). */
export function valueAt(value: unknown, path: readonly PathSegment[]): number | undefined {
  let node = value;
  for (const segment of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[segment as string];
  }
  return typeof node === 'number' && Number.isFinite(node) ? node : undefined;
}
