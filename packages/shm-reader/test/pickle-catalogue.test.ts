/**
 * Fresh pickles from every installed CPython 3.8+ (fixtures/pickles/catalogue.py): a catalogue of
 * values at protocols 0–5 (numpy ones, with numpy 1.x module names too, where numpy is installed),
 * each compared with the interpreter's own description of the value.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { decodePickle, PickleError } from '../src/pickle/index.js';
import { FIXTURES, findPythons, hexToBytes, mismatch, type Json } from './pickle-helpers.js';

interface Row {
  name: string;
  protocol: number;
  python: string;
  pickle: string;
  expect: Json;
}

const pythons = findPythons();

describe('CPython catalogue', () => {
  it('finds CPython 3.8+ interpreters', () => {
    console.log(`pickle catalogue: running ${pythons.map((p) => p.version).join(', ') || 'none'}`);
    expect(pythons.length).toBeGreaterThan(0);
  });

  it.each(pythons.map((p) => [p.version, p] as const))('CPython %s: every pickle at protocols 0–5 decodes exactly', (_v, python) => {
    const out = execFileSync(python.path, ['catalogue.py'], { cwd: FIXTURES, maxBuffer: 512 * 1024 * 1024, encoding: 'utf8' });
    const rows = out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Row);
    const failures: string[] = [];
    const protocols = new Set<number>();
    for (const row of rows) {
      protocols.add(row.protocol);
      try {
        const m = mismatch(decodePickle(hexToBytes(row.pickle)), row.expect);
        if (m) failures.push(`${row.name} p${row.protocol}: ${m}`);
      } catch (error) {
        failures.push(`${row.name} p${row.protocol}: threw ${error instanceof PickleError ? `${error.code} ${error.message}` : String(error)}`);
      }
    }
    expect(failures).toEqual([]);
    expect([...protocols].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(rows.length).toBeGreaterThan(150);
  });
});
