/**
 * The last messages of a `stream` topic, newest first, bounded: what came, how many, and where messages
 * were lost. A stream's sequence numbers are consecutive per topic, so a jump is exactly the gap the
 * relay reports when it drops messages for a slow page (its `gap` notice names the same seq range); a
 * smaller number than before is a new server session, not a gap.
 */
export interface StreamEntry {
  kind: 'message' | 'gap';
  seq: number;
  /** Server time of publication, ms since the epoch (gaps: the time of the message after them). */
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
  /** Notes a message (and the gap before it, if its seq jumps). */
  add(seq: number, time: number, text: string): void;
}

/** A bounded log of a stream's messages. @param maxEntries entries kept (messages and gap notices), @default 50 */
export function createStreamLog(maxEntries = 50): StreamLog {
  const state: StreamLogState = { received: 0, dropped: 0, entries: [] };
  let last: number | undefined;
  const push = (entry: StreamEntry): void => {
    state.entries.push(entry);
    if (state.entries.length > maxEntries) state.entries.splice(0, state.entries.length - maxEntries);
  };
  return {
    state,
    add(seq, time, text) {
      if (last !== undefined && seq > last + 1) {
        const dropped = seq - last - 1;
        state.dropped += dropped;
        push({ kind: 'gap', seq: last + 1, time, text: `${dropped} dropped (seq ${last + 1}–${seq - 1})` });
      }
      last = seq;
      state.received += 1;
      push({ kind: 'message', seq, time, text });
    },
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
