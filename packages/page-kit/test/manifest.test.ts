import { describe, expect, it } from 'vitest';
import { PageError, checkPageMatchesManifest, readPageManifest } from '../src/index.js';

const good = { page: './dist/page.js', id: 'image', title: 'Image', description: 'A live image.', topics: ['napari.image'] };

function errorOf(run: () => unknown): PageError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PageError);
    return error as PageError;
  }
  throw new Error('did not throw');
}

describe('readPageManifest', () => {
  it('returns the typed, frozen metadata and drops unknown keys', () => {
    const manifest = readPageManifest({ ...good, extra: true });
    expect(manifest).toEqual(good);
    expect(Object.isFrozen(manifest)).toBe(true);
    expect(Object.isFrozen(manifest.topics)).toBe(true);
    expect(readPageManifest({ page: 'dist/page.mjs', id: 'a', title: 'A', topics: [] })).toEqual({ page: 'dist/page.mjs', id: 'a', title: 'A', topics: [] });
  });

  it.each([
    [undefined, 'webmon'],
    [['x'], 'webmon'],
    [{ ...good, page: undefined }, 'webmon.page'],
    [{ ...good, page: '../other/page.js' }, 'webmon.page'],
    [{ ...good, page: './dist/../../page.js' }, 'webmon.page'],
    [{ ...good, page: '/abs/page.js' }, 'webmon.page'],
    [{ ...good, page: 'https://evil.example/page.js' }, 'webmon.page'],
    [{ ...good, page: './dist/page.ts' }, 'webmon.page'],
    [{ ...good, id: 'Image' }, 'webmon.id'],
    [{ ...good, id: 'assets' }, 'webmon.id'],
    [{ ...good, title: '' }, 'webmon.title'],
    [{ ...good, description: 7 }, 'webmon.description'],
    [{ ...good, topics: 'napari.image' }, 'webmon.topics'],
    [{ ...good, topics: ['has space'] }, 'webmon.topics'],
  ])('rejects %j naming the field %s', (value, field) => {
    const error = errorOf(() => readPageManifest(value, 'my-page/package.json'));
    expect(error.code).toBe('PAGE_INVALID_MANIFEST');
    expect(error.field).toBe(field);
    expect(error.message).toContain(`"${field}"`);
    expect(error.message).toContain('my-page/package.json');
  });
});

describe('checkPageMatchesManifest', () => {
  it('passes the same id and refuses another', () => {
    checkPageMatchesManifest({ id: 'image' }, good);
    const error = errorOf(() => checkPageMatchesManifest({ id: 'stats' }, good, '/pages/image/page.js'));
    expect(error.code).toBe('PAGE_MANIFEST_MISMATCH');
    expect(error.message).toBe('/pages/image/page.js defines page "stats", but its manifest says "image"');
  });
});
