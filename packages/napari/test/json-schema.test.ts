import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NapariSchemaId, napariJsonSchemas } from '../src/index.js';

const dir = new URL('../schema/', import.meta.url);

describe('napari JSON Schema export', () => {
  it('pins the public schema list', () => {
    expect(Object.values(NapariSchemaId).sort()).toEqual([
      'webmon.v1/napari.command',
      'webmon.v1/napari.frame_time',
      'webmon.v1/napari.info',
      'webmon.v1/napari.load_chunk',
      'webmon.v1/napari.message',
      'webmon.v1/napari.poll',
    ]);
  });

  it('matches the committed schema/*.json (run `pnpm --filter @webmon/napari schema` after changing a schema)', () => {
    const generated = napariJsonSchemas();
    const files = readdirSync(dir).filter((file) => file.endsWith('.schema.json')).sort();
    expect(files).toEqual(Object.keys(generated).sort());
    for (const file of files) {
      expect(JSON.parse(readFileSync(new URL(file, dir), 'utf8')), file).toEqual(generated[file]);
    }
  });

  it('states the limits a Python producer must respect', () => {
    const poll = napariJsonSchemas()['napari.poll.schema.json'] as any;
    const seen = poll.properties.layers.additionalProperties.properties.tile_state.properties.seen;
    expect(seen.maxItems).toBe(262_144);
    expect(seen.items.prefixItems[0]).toMatchObject({ type: 'integer', minimum: 0 });
  });
});
