import { describe, expect, it } from 'vitest';
import { RepeatedWarnings } from '../../src/node/repeated-warnings.js';

describe('RepeatedWarnings', () => {
  it('says a cause once, then a count at most every everyMs while it repeats', async () => {
    const lines: string[] = [];
    const warnings = new RepeatedWarnings((line) => lines.push(line), 200);
    for (let i = 0; i < 5; i++) warnings.warn('ring:a:dead', 'ring a: writer gone');
    warnings.warn('ring:b:dead', 'ring b: writer gone');
    expect(lines).toEqual(['ring a: writer gone', 'ring b: writer gone']);
    await new Promise((resolve) => setTimeout(resolve, 250));
    warnings.warn('ring:a:dead', 'ring a: writer gone');
    expect(lines[2]).toMatch(/^ring a: writer gone \(again: 5 times in the last 0 s\)$/);
    warnings.warn('ring:a:dead', 'ring a: writer gone');
    expect(lines).toHaveLength(3);
  });

  it('once() never repeats, and forgets the oldest cause past maxKeys', () => {
    const lines: string[] = [];
    const warnings = new RepeatedWarnings((line) => lines.push(line), 30_000, 2);
    warnings.once('a', 'A');
    warnings.once('a', 'A');
    warnings.once('b', 'B');
    warnings.once('c', 'C'); // forgets a
    warnings.once('a', 'A');
    expect(lines).toEqual(['A', 'B', 'C', 'A']);
  });
});
