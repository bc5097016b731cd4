/**
 * The last messages of a `stream` topic, newest first, bounded: what came, how many, and where messages
 * were lost. The relay's `gap` notice (page-kit's `onGap`) names the seq range it dropped for a slow page,
 * before the messages after it. A host too old to pass notices on leaves the log to infer gaps: a stream's
 * sequence numbers are consecutive per topic, so a jump is the same range (a smaller number than before is
 * a new server session, not a gap).
 */
export interface StreamEntry {
  kind: 'message' | 'gap';
  seq: number;
  /** Server time of publication, ms since the epoch (gaps: the time of the message after them, or of the notice). */
  time: number;
  /** The message as one line of JSON (gaps: `N dropped (seq a–b)`). */
  text: string;
}

export interface StreamLogState {
  /** Messages received (replayed ones included). */
  received: number;
  /** Messages the relay dropped for this page. */
  dropped: number;
  /** Newest last; at most `maxEntries`. */
  entries: StreamEntry[];
}

export interface StreamLog {
  readonly state: StreamLogState;
  /** Notes a message (and, when inferring gaps, the gap before it if its seq jumps). */
  add(seq: number, time: number, text: string): void;
  /** Notes the relay's gap notice: `dropped` messages, `fromSeq`–`toSeq`, never to come. */
  gap(fromSeq: number, toSeq: number, dropped: number, time: number): void;
}

/**
 * A bounded log of a stream's messages. @param maxEntries entries kept (messages and gap notices), @default 50
 * @param inferGaps note seq jumps as gaps (for hosts that pass no gap notices on), @default true
 */
export function createStreamLog(maxEntries = 50, inferGaps = true): StreamLog {
  const state: StreamLogState = { received: 0, dropped: 0, entries: [] };
  let last: number | undefined;
  const push = (entry: StreamEntry): void => {
    state.entries.push(entry);
    if (state.entries.length > maxEntries) state.entries.splice(0, state.entries.length - maxEntries);
  };
  function noteGap(fromSeq: number, toSeq: number, dropped: number, time: number): void {
    state.dropped += dropped;
    push({ kind: 'gap', seq: fromSeq, time, text: `${dropped} dropped (seq ${fromSeq}–${toSeq})` });
  }
  return {
    state,
    add(seq, time, text) {
      if (inferGaps && last !== undefined && seq > last + 1) noteGap(last + 1, seq - 1, seq - last - 1, time);
      last = seq;
      state.received += 1;
      push({ kind: 'message', seq, time, text });
    },
    gap: noteGap,
  };
}

/**
 * Draws a log into a list element, reusing its rows (at most `maxEntries` elements, text changed only
 * where it differs), newest first.
 */
export function renderStreamLog(list: HTMLElement, state: StreamLogState): void {
  const entries = state.entries;
  while (list.children.length > entries.length) list.lastElementChild?.remove();
  while (list.children.length < entries.length) list.appendChild(document.createElement('li'));
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[entries.length - 1 - i] as StreamEntry;
    const row = list.children[i] as HTMLElement;
    const seq = String(entry.seq);
    if (row.dataset['seq'] === seq && row.dataset['kind'] === entry.kind) continue;
    row.dataset['seq'] = seq;
    row.dataset['kind'] = entry.kind;
    row.className = entry.kind === 'gap' ? 'wx-gap' : '';
    row.textContent = entry.kind === 'gap' ? `⚠ ${entry.text}` : `#${entry.seq} ${entry.text}`;
  }
}
