/**
 * Turns successive full copies of `napari_data` into per-key changes. napari (and any plugin or
 * script calling `monitor.add_data`) rewrites keys every frame, mostly with the same value, so a key
 * is reported only when its JSON text differs from the last one reported: once per change, not per
 * read. Keys are compared as JSON object keys (`toJsonKey`: int `7` and str `'7'` are the same key,
 * the later one wins, as in `JSON.parse(json.dumps(d))`).
 *
 * A value that cannot be converted is reported once for as long as it keeps failing the same way;
 * the key keeps its last good value (nothing is retracted), and the other keys go on.
 */
import { toJsonData, toJsonKey, type JsonData, type PyValue, type ToJsonLimits } from '@webmon/shm-reader';

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

  /** Applies one full copy of the dict (in its iteration order). */
  update(entries: Iterable<readonly [PyValue, DataEntryValue]>): void {
    const byKey = new Map<string, DataEntryValue>();
    for (const [rawKey, value] of entries) {
      try {
        byKey.set(toJsonKey(rawKey, this.limits), value);
      } catch (error) {
        this.changes.failed(undefined, asError(error));
      }
    }
    for (const [key, value] of byKey) this.apply(key, value);
    for (const [key, state] of this.keys) {
      if (byKey.has(key)) continue;
      this.keys.delete(key);
      if (state.text !== undefined) this.changes.removed(key);
    }
  }

  private apply(key: string, value: DataEntryValue): void {
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
      json = toJsonData(value, this.limits);
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

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
