/**
 * /topics: every topic of every source, as it arrives — any `napari_data` key, any message kind, any
 * ring — with its newest value (or the last few messages of a stream), so whatever a Python program
 * shares is visible with no page to write. Topics that appear later show up at once; a retired topic
 * is greyed, not dropped. "N received" counts the values that arrived live since the page subscribed; the
 * history a late page gets first (a stream's window, a JSON `latest` topic's last minute) is "M in snapshot".
 */
import { definePage } from '@webmon/page-kit';
import type { DecodedFrame, TopicInfo } from '@webmon/protocol';
import { BUILT_IN_PAGES } from './built-in.js';

/** Messages of a stream topic shown at once. */
const STREAM_ROWS = 5;
/** Longest value text shown; the rest is cut (the page is an overview, not a dump). */
const MAX_TEXT = 2_000;

interface Row {
  info: TopicInfo;
  element: HTMLElement;
  /** Values received live since the page subscribed: what "N received" says. */
  count: number;
  /**
   * Values in the topic's last snapshot (history the server sends on subscribing: a stream's window, a JSON
   * `latest` topic's last minute), shown apart — counted as received, a page opened late would claim a
   * burst it never saw arrive.
   */
  snapshot: number;
  /** The seq of the last value when it came from a snapshot, else undefined: a snapshot's items come in a row, seq rising. */
  snapshotSeq: number | undefined;
  /** Whether any value arrived yet (live or from a snapshot). */
  seen: boolean;
  values: string[];
  retired: boolean;
  dirty: boolean;
}

function describeValue(payload: unknown): string {
  if (isFrame(payload)) return `${payload.dtype} [${payload.shape.join(' × ')}]${payload.meta === undefined ? '' : ` ${JSON.stringify(payload.meta)}`}`;
  const text = JSON.stringify(payload) ?? String(payload);
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
}

function isFrame(payload: unknown): payload is DecodedFrame {
  return typeof payload === 'object' && payload !== null && 'dtype' in payload && 'shape' in payload && ArrayBuffer.isView((payload as { data?: unknown }).data);
}

export const page = definePage({
  ...BUILT_IN_PAGES.topics,
  mount(element, context) {
    const root = document.createElement('section');
    root.style.cssText = 'flex:1;min-height:0;overflow:auto;padding:1rem 1.5rem;display:grid;gap:0.75rem;align-content:start;';
    const empty = document.createElement('p');
    empty.textContent = 'No topics yet.';
    empty.style.color = '#9aa0a6';
    root.append(empty);
    element.replaceChildren(root);

    const rows = new Map<string, Row>();
    let frame = 0;

    const render = (): void => {
      frame = 0;
      for (const row of rows.values()) {
        if (!row.dirty) continue;
        row.dirty = false;
        const [head, body] = row.element.children as unknown as [HTMLElement, HTMLElement];
        head.textContent = `${row.info.name} · ${row.info.mode}${row.info.binary ? ' · binary' : ''} · ${row.count} received${row.snapshot > 0 ? ` · ${row.snapshot} in snapshot` : ''}${row.retired ? ' · retired' : ''}`;
        body.textContent = row.values.join('\n');
        row.element.dataset['count'] = String(row.count);
        row.element.dataset['snapshot'] = String(row.snapshot);
        row.element.dataset['state'] = row.retired ? 'retired' : 'live';
        row.element.style.opacity = row.retired ? '0.5' : '1';
      }
      empty.hidden = rows.size > 0;
      root.dataset['topics'] = String(rows.size);
    };
    const schedule = (): void => {
      if (frame === 0) frame = requestAnimationFrame(render);
    };

    const add = (info: TopicInfo): void => {
      const existing = rows.get(info.name);
      if (existing) {
        existing.info = info;
        existing.retired = false;
        existing.dirty = true;
        schedule();
        return;
      }
      const item = document.createElement('article');
      item.dataset['topic'] = info.name;
      item.style.cssText = 'border:1px solid #2c3036;border-radius:6px;padding:0.5rem 0.75rem;';
      const head = document.createElement('div');
      head.style.cssText = 'color:#9aa0a6;font-size:0.85rem;';
      const body = document.createElement('pre');
      body.dataset['role'] = 'value';
      body.style.cssText = 'margin:0.25rem 0 0;white-space:pre-wrap;word-break:break-all;font-size:0.85rem;';
      item.append(head, body);
      // Sorted by name, so a source's topics stay together.
      const after = [...rows.keys()].sort().find((name) => name > info.name);
      root.insertBefore(item, after === undefined ? null : (rows.get(after)?.element ?? null));
      const row: Row = { info, element: item, count: 0, snapshot: 0, snapshotSeq: undefined, seen: false, values: [], retired: false, dirty: true };
      rows.set(info.name, row);
      context.subscribe(info.name, (payload, { replayed, seq }) => {
        const text = describeValue(payload);
        // When the first value arrived (wall clock) and what it was, so its trip from Python can be measured.
        if (!row.seen) {
          row.seen = true;
          item.dataset['firstAt'] = String(performance.timeOrigin + performance.now());
          item.dataset['firstValue'] = text.slice(0, 256);
        }
        if (replayed) {
          // A new snapshot (after live values, or a resubscribe that starts over) replaces the last one's count.
          if (row.snapshotSeq === undefined || seq <= row.snapshotSeq) row.snapshot = 0;
          row.snapshot++;
          row.snapshotSeq = seq;
        } else {
          row.count++;
          row.snapshotSeq = undefined;
        }
        row.values = info.mode === 'stream' ? [...row.values, text].slice(-STREAM_ROWS) : [text];
        row.dirty = true;
        schedule();
        // A frame is only described (its text kept, not its bytes): its buffer may go back at once.
      }, { borrowFrames: true });
      schedule();
    };

    for (const info of context.topics) add(info);
    context.onTopics((change) => {
      for (const info of change.added) add(info);
      for (const name of change.removed) {
        const row = rows.get(name);
        if (row === undefined) continue;
        row.retired = true;
        row.dirty = true;
      }
      schedule();
    });

    return () => {
      if (frame !== 0) cancelAnimationFrame(frame);
      root.remove();
    };
  },
});
