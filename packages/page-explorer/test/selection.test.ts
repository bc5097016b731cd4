import { describe, expect, it } from 'vitest';
import { fieldKey, fieldLabel, parseFieldKey, readCharts, valueAt, writeCharts, type FieldRef } from '../src/selection.js';

describe('charted fields in the URL', () => {
  const frame: FieldRef = { topic: 'napari.frame_time', path: ['delta_ms'] };
  const count: FieldRef = { topic: 'napari.data.my_plugin', path: ['stats', 'count'] };

  it('writes readable links: one chart parameter per chart, fields joined by commas', () => {
    expect(writeCharts('', [[frame], [count, { topic: 'napari.layers', path: ['layers', 0, 'tiles'] }]])).toBe(
      '?chart=napari.frame_time~delta_ms&chart=napari.data.my_plugin~stats.count,napari.layers~layers.0.tiles',
    );
  });

  it('reads back what it wrote, keeping other parameters and dropping its own old ones', () => {
    const charts = [[frame, count], [{ topic: 'a/b:c-d', path: ['odd.key,with~all%', 3, ''] }]];
    const search = writeCharts('?x=1&chart=old~v', charts);
    expect(search.startsWith('?x=1&')).toBe(true);
    expect(search).not.toContain('old~v');
    expect(readCharts(search)).toEqual(charts);
  });

  it('reads numbers as array indices and keeps other keys as text', () => {
    expect(parseFieldKey('t~a.0.01.b')).toEqual({ topic: 't', path: ['a', 0, '01', 'b'] });
    expect(parseFieldKey('t~')).toEqual({ topic: 't', path: [] });
  });

  it('ignores what a hand-edited link gets wrong, and duplicates within a chart', () => {
    expect(readCharts('?chart=&chart=~x&chart=bad topic~x&chart=t~a,t~a,u~b&chart=noTilde')).toEqual([
      [
        { topic: 't', path: ['a'] },
        { topic: 'u', path: ['b'] },
      ],
    ]);
    expect(writeCharts('?chart=t~a', [])).toBe('');
  });

  it('labels a field as a path', () => {
    expect(fieldLabel({ topic: 'napari.layers', path: ['layers', 2, 'n'] })).toBe('napari.layers.layers[2].n');
    expect(fieldKey(count)).toBe('napari.data.my_plugin~stats.count');
  });
});

describe('valueAt', () => {
  it('finds finite numbers only', () => {
    const value = { a: { b: [1, 2.5, 'x', true, null, Number.NaN] } };
    expect(valueAt(value, ['a', 'b', 1])).toBe(2.5);
    expect(valueAt(value, ['a', 'b', 2])).toBeUndefined();
    expect(valueAt(value, ['a', 'b', 3])).toBeUndefined();
    expect(valueAt(value, ['a', 'b', 5])).toBeUndefined();
    expect(valueAt(value, ['a', 'missing', 0])).toBeUndefined();
    expect(valueAt(7, [])).toBe(7);
  });
});
