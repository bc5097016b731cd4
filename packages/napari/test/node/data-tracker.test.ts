import { describe, expect, it } from 'vitest';
import type { PyValue } from '@webmon/shm-reader';
import { FailedValue, NapariDataTracker, UNCHANGED, type DataEntryValue } from '../../src/node/data-tracker.js';

function tracker() {
  const log: unknown[][] = [];
  const data = new NapariDataTracker(
    {
      changed: (key, value) => log.push(['changed', key, value]),
      removed: (key) => log.push(['removed', key]),
      failed: (key, error) => log.push(['failed', key, error.message]),
    },
    { maxDepth: 3 },
  );
  const update = (...entries: [PyValue, DataEntryValue][]): unknown[][] => {
    data.update(entries);
    return log.splice(0);
  };
  return update;
}

describe('NapariDataTracker', () => {
  it('reports new and changed keys once per change, and removed ones', () => {
    const update = tracker();
    expect(update(['a', 1], [7, new Map([['x', true]])])).toEqual([
      ['changed', 'a', 1],
      ['changed', '7', { x: true }],
    ]);
    expect(update(['a', 1], [7, new Map([['x', true]])])).toEqual([]);
    expect(update(['a', 2], [7, new Map([['x', true]])])).toEqual([['changed', 'a', 2]]);
    expect(update([7, new Map([['x', true]])])).toEqual([['removed', 'a']]);
  });

  it('treats int 1 and str "1" as one JSON key, the later one winning (as JSON.parse(json.dumps(d)))', () => {
    const update = tracker();
    expect(update([1, 'int'], ['1', 'str'])).toEqual([['changed', '1', 'str']]);
  });

  it('reports a failing value once while it fails the same way, keeps its last good value, and goes on', () => {
    const update = tracker();
    const deep = [[[[['too deep']]]]] as PyValue;
    expect(update(['k', 'good'], ['ok', 1])).toHaveLength(2);
    expect(update(['k', deep], ['ok', 2])).toEqual([
      ['failed', 'k', expect.stringMatching(/nesting deeper than 3/)],
      ['changed', 'ok', 2],
    ]);
    expect(update(['k', deep], ['ok', 3])).toEqual([['changed', 'ok', 3]]);
    expect(update(['k', new FailedValue(new Error('unpicklable'))], ['ok', 3])).toEqual([['failed', 'k', 'unpicklable']]);
    // Back to the value it last reported: nothing to say.
    expect(update(['k', 'good'], ['ok', 3])).toEqual([]);
    expect(update(['ok', 3])).toEqual([['removed', 'k']]);
  });

  it('never reports removal of a key that never had a usable value', () => {
    const update = tracker();
    expect(update(['bad', new FailedValue(new Error('no'))])).toEqual([['failed', 'bad', 'no']]);
    expect(update()).toEqual([]);
  });

  it('keeps a key marked UNCHANGED as it is', () => {
    const update = tracker();
    expect(update(['a', 1])).toEqual([['changed', 'a', 1]]);
    expect(update(['a', UNCHANGED])).toEqual([]);
    expect(update(['a', 1])).toEqual([]);
  });

  it('gives all keys of one copy one budget scaled by its bytes, charging the smallest values first', () => {
    const log: unknown[][] = [];
    const data = new NapariDataTracker({
      changed: (key) => log.push(['changed', key]),
      removed: (key) => log.push(['removed', key]),
      failed: (key, error) => log.push(['failed', key, (error as { code?: string }).code]),
    });
    // A shared list of 3 000 values, referenced by six keys: each fits a 10 000-value budget, three do not.
    const shared = Array.from({ length: 2_999 }, (_, i) => i) as PyValue;
    const entries: [PyValue, DataEntryValue][] = [
      ['a', shared],
      ['b', shared],
      ['small', 1],
      ['c', shared],
      ['d', shared],
    ];
    data.update(entries, 100);
    // Emitted in dict order; 'small' is charged before the big ones, so the last big one is refused, not it.
    expect(log).toEqual([
      ['changed', 'a'],
      ['changed', 'b'],
      ['changed', 'small'],
      ['changed', 'c'],
      ['failed', 'd', 'SHM_READER_PICKLE_LIMIT'],
    ]);
    // 'small' first even when it comes last in the dict.
    log.length = 0;
    new NapariDataTracker({ changed: (key) => log.push(['changed', key]), removed: () => undefined, failed: (key) => log.push(['failed', key]) }).update(
      [...entries.filter(([key]) => key !== 'small'), ['e', shared], ['small', 2]],
      100,
    );
    expect(log).toEqual([['changed', 'a'], ['changed', 'b'], ['changed', 'c'], ['failed', 'd'], ['failed', 'e'], ['changed', 'small']]);
  });
});
