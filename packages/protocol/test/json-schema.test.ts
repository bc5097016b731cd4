import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SchemaId, allJsonSchemas } from '../src/index.js';

const dir = new URL('../schema/', import.meta.url);

describe('JSON Schema export', () => {
  it('pins the public schema list', () => {
    expect(Object.values(SchemaId).sort()).toEqual([
      'webmon.v1/client-message',
      'webmon.v1/frame',
      'webmon.v1/frame-header',
      'webmon.v1/json',
      'webmon.v1/server-message',
    ]);
  });

  it('matches the committed schema/*.json (run `pnpm --filter @webmon/protocol schema` after changing a schema)', () => {
    const generated = allJsonSchemas();
    const files = readdirSync(dir).filter((file) => file.endsWith('.schema.json')).sort();
    expect(files).toEqual(Object.keys(generated).sort());
    for (const file of files) {
      expect(JSON.parse(readFileSync(new URL(file, dir), 'utf8')), file).toEqual(generated[file]);
    }
  });
});
