import { readFileSync } from 'node:fs';
import { readPageManifest } from '@webmon/page-kit';
import { expect, it } from 'vitest';
import { page } from '../src/index.js';

// webmon lists the page from package.json without running its code; the browser then checks the id.
it('package.json "webmon" describes the page the module defines', () => {
  const manifest = readPageManifest((JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { webmon?: unknown }).webmon);
  expect(manifest).toEqual({ page: './dist/page.js', id: page.id, title: page.title, description: page.description, topics: [...page.topics] });
});
