import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { quickCheckFrameTime, quickCheckLoadChunk, quickCheckPoll } from '../src/fast-check.js';
import { FrameTimeSchema, LoadChunkSchema, PollSchema } from '../src/index.js';
import { random } from './helpers.js';

const samples = JSON.parse(readFileSync(new URL('./fixtures/napari-samples.json', import.meta.url), 'utf8'));


const oddValues: unknown[] = [
  -1, 0, 1, 1.5, 2 ** 53, -0, Number.NaN, Number.POSITIVE_INFINITY, '1', '', null, true, [], [1], [1, 2], [1, 2, 3],
  [-1, 0], [0.5, 1], {}, { a: 1 }, undefined, 2 ** 31, [[1, 2], [3, 4]],
];

/** Replaces one randomly chosen node of a JSON-like tree (or deletes a key) with an odd value. */
function mutate(value: unknown, next: () => number): unknown {
  const copy = structuredClone(value);
  const nodes: { parent: any; key: string | number }[] = [];
  const walk = (node: any) => {
    if (node && typeof node === 'object') {
      for (const key of Object.keys(node)) {
        nodes.push({ parent: node, key: Array.isArray(node) ? Number(key) : key });
        walk(node[key]);
      }
    }
  };
  walk(copy);
  if (nodes.length === 0) return oddValues[Math.floor(next() * oddValues.length)];
  const { parent, key } = nodes[Math.floor(next() * nodes.length)]!;
  if (!Array.isArray(parent) && next() < 0.15) delete parent[key];
  else parent[key] = structuredClone(oddValues[Math.floor(next() * oddValues.length)]);
  return copy;
}

describe('hand-written fast checks agree with zod', () => {
  it.each([
    ['poll', samples.poll, quickCheckPoll, PollSchema],
    ['frame_time', samples.frame_time.frame_time, quickCheckFrameTime, FrameTimeSchema],
    ['load_chunk', samples.load_chunk.load_chunk, quickCheckLoadChunk, LoadChunkSchema],
  ] as const)('%s: same verdict on 5,000 mutations', (_name, valid, quick, schema) => {
    expect(quick(valid)).toBe(true);
    const next = random(7);
    let rejected = 0;
    for (let i = 0; i < 5_000; i++) {
      let input = mutate(valid, next);
      if (next() < 0.3) input = mutate(input, next);
      const zodVerdict = schema.safeParse(input).success;
      expect(quick(input), JSON.stringify(input)).toBe(zodVerdict);
      if (!zodVerdict) rejected++;
    }
    expect(rejected).toBeGreaterThan(1_000);
  });
});
