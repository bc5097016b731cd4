/**
 * Page listing reads package.json only: a page module is never imported in Node. Proved with a page
 * whose module writes a file and throws when imported, listed by `loadPages` and by the real command.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebmonError } from '../src/errors.js';
import { loadPages } from '../src/pages.js';
import { CLI, startProcess } from './helpers.js';

const DIST_DIR = join(import.meta.dirname, '..', 'dist');
let project: string;
let marker: string;

/** Installs `node_modules/<name>` with the given `webmon` field and a module that leaves `marker` when run. */
function installPage(name: string, webmon: unknown): void {
  const dir = join(project, 'node_modules', name);
  mkdirSync(join(dir, 'dist'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module', webmon }));
  writeFileSync(
    join(dir, 'dist', 'page.js'),
    `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'page code ran');\nthrow new Error('page code ran');\n`,
  );
}

beforeEach(() => {
  project = mkdtempSync(join(tmpdir(), 'webmon-pages-'));
  marker = join(project, 'page-code-ran');
});
afterEach(() => rmSync(project, { recursive: true, force: true }));

describe('page listing', () => {
  const webmon = { page: './dist/page.js', id: 'evil', title: 'Evil', description: 'Runs code on import.', topics: ['napari.layers'] };

  it('lists a page from its package.json without running its module', () => {
    installPage('evil-page', webmon);
    const pages = loadPages(DIST_DIR, ['evil-page'], [project]);
    expect(pages.map((page) => page.id)).toEqual(['viewer', 'loader', 'topics', 'evil']);
    expect(pages[3]).toMatchObject({ title: 'Evil', description: 'Runs code on import.', topics: ['napari.layers'], moduleFile: 'page.js', origin: 'evil-page@1.0.0' });
    expect(existsSync(marker)).toBe(false);
  });

  it('names the bad field of a package.json "webmon" field (typed PageError as the cause)', () => {
    installPage('bad-page', { ...webmon, topics: 'napari.layers' });
    let caught: unknown;
    try {
      loadPages(DIST_DIR, ['bad-page'], [project]);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(WebmonError);
    expect(caught).toMatchObject({ code: 'WEBMON_BAD_PAGE', cause: { name: 'PageError', code: 'PAGE_INVALID_MANIFEST', field: 'webmon.topics' } });
    expect((caught as Error).message).toMatch(/page package "bad-page" \(.*package\.json\): "webmon\.topics" must be an array/);
    expect(existsSync(marker)).toBe(false);
  });

  it('the command starts with such a page and never runs its code', async () => {
    installPage('evil-page', webmon);
    // No napari at port 9: the command lists its pages, starts serving, then fails to reach napari.
    const proc = startProcess(process.execPath, [CLI, '--port', '0', '--connect', '127.0.0.1:9', '--page', 'evil-page'], { cwd: project });
    expect(await proc.exited(), proc.output()).toBe(1);
    expect(proc.stderr()).toMatch(/\[WEBMON_NAPARI_UNREACHABLE\]/);
    expect(existsSync(marker)).toBe(false);
  });
});
