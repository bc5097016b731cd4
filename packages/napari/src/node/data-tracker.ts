/**
 * Turns successive full copies of `napari_data` into per-key changes. napari (and any plugin or
 * script calling `monitor.add_data`) rewrites keys every frame, mostly with the same value, so a key
 * is reported only when its JSON text differs from the last one reported: once per change, not per
 * read. Keys are compared as JSON object keys (`toJsonKey`: int `7` and str `'7'` are the same key,
 * the later one wins, as in `JSON.parse(json.dumps(d))`).
 *
 * A value that cannot be converted is reported once for as long as it keeps failing the same way;
 * the key keeps its last good value (nothing is retracted), and the other keys go on.
 *
 * One copy of the dict is one pickle, so all its keys and values share one expansion budget (shm-reader's
 * `createJsonBudget`, scaled by the reply's size): many keys referencing one shared sub-value cannot
 * multiply it. Values are charged smallest first, so a value that expands hugely is the one refused,
 * never the small keys next to it.
 */
import { createJsonBudget, toJsonData, toJsonKey, type JsonBudget, type JsonData, type PyValue, type ToJsonLimits } from '@webmon/shm-reader';

/** A value that could not be read at all (napari could not pickle it, or it is beyond the decoder's limits). */
export class FailedValue {
  constructor(readonly error: Error) {}
}

/** The key is still there and its value is known to be the same as at the last update. */
export const UNCHANGED: unique symbol = Symbol('unchanged');

export type DataEntryValue = PyValue | FailedValue | typeof UNCHANGED;

export interface DataChanges {
  changed(key: string, value: JsonData): void;
  removed(key: string): void;
  /** `key` is undefined when the key itself could not be converted. */
  failed(key: string | undefined, error: Error): void;
}

interface KeyState {
  /** JSON text of the last value reported through `changed`; undefined if none was. */
  text: string | undefined;
  /** Message of the failure last reported, while the key keeps failing. */
  failure: string | undefined;
}

export class NapariDataTracker {
  private readonly keys = new Map<string, KeyState>();

  constructor(
    private readonly changes: DataChanges,
    private readonly limits: Partial<ToJsonLimits> = {},
  ) {}

  /**
   * Applies one full copy of the dict (in its iteration order). `inputBytes`: the size of the pickle(s) it
   * was decoded from, which bounds what it may expand to (`ToJsonLimits.inputBytes`).
   */
  update(entries: Iterable<readonly [PyValue, DataEntryValue]>, inputBytes?: number): void {
    const budget = createJsonBudget(inputBytes === undefined ? this.limits : { ...this.limits, inputBytes });
    const byKey = new Map<string, DataEntryValue>();
    for (const [rawKey, value] of entries) {
      try {
        byKey.set(toJsonKey(rawKey, budget), value);
      } catch (error) {
        this.changes.failed(undefined, asError(error));
      }
    }
    const converted = convertSmallestFirst(byKey, budget);
    for (const [key, value] of byKey) this.apply(key, value, converted.get(key));
    for (const [key, state] of this.keys) {
      if (byKey.has(key)) continue;
      this.keys.delete(key);
      if (state.text !== undefined) this.changes.removed(key);
    }
  }

  private apply(key: string, value: DataEntryValue, converted: Converted | undefined): void {
    if (value === UNCHANGED && this.keys.has(key)) return;
    let state = this.keys.get(key);
    if (!state) {
      state = { text: undefined, failure: undefined };
      this.keys.set(key, state);
    }
    let json: JsonData;
    let text: string;
    try {
      if (value === UNCHANGED) throw new Error(`napari_data[${JSON.stringify(key)}]: no value read yet`);
      if (value instanceof FailedValue) throw value.error;
      if (converted === undefined) throw new Error(`napari_data[${JSON.stringify(key)}]: not converted`);
      if ('error' in converted) throw converted.error;
      json = converted.json;
      // Bounded with the value: the budget counts every character and value the text is made of.
      text = JSON.stringify(json);
    } catch (error) {
      const failure = asError(error);
      if (state.failure !== failure.message) {
        state.failure = failure.message;
        this.changes.failed(key, failure);
      }
      return;
    }
    state.failure = undefined;
    if (text === state.text) return;
    state.text = text;
    this.changes.changed(key, json);
  }
}

type Converted = { json: JsonData } | { error: unknown };

/** Converts the plain values under one budget, the cheapest first (ties in dict order). */
function convertSmallestFirst(byKey: Map<string, DataEntryValue>, budget: JsonBudget): Map<string, Converted> {
  const converted = new Map<string, Converted>();
  const queue: { key: string; value: PyValue; share: number }[] = [];
  const { total } = budget;
  for (const [key, value] of byKey) {
    if (value === UNCHANGED || value instanceof FailedValue) continue;
    try {
      const size = budget.measure(value);
      queue.push({ key, value, share: Math.max(size.nodes / total.nodes, size.chars / total.chars) });
    } catch (error) {
      converted.set(key, { error });
    }
  }
  queue.sort((a, b) => a.share - b.share);
  for (const { key, value } of queue) {
    try {
      converted.set(key, { json: toJsonData(value, budget) });
    } catch (error) {
      converted.set(key, { error });
    }
  }
  return converted;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
