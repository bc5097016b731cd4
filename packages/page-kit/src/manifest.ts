/**
 * A page package's metadata, from the `webmon` field of its package.json:
 *
 *   "webmon": { "page": "./dist/page.js", "id": "image", "title": "Image", "description": "…", "topics": ["camera.image"] }
 *
 * A host lists pages from this field alone, without running their code; the browser then checks that
 * the module it loads defines the page the manifest promised (`checkPageMatchesManifest`).
 */
import { PageError, PageErrorCode } from './errors.js';
import { pageMetadataProblem } from './rules.js';

export interface PageManifest {
  /** The browser module, relative to the package directory (e.g. `./dist/page.js`). */
  readonly page: string;
  readonly id: string;
  readonly title: string;
  readonly description?: string;
  readonly topics: readonly string[];
}

// Relative, inside the package: no scheme, no absolute path, no `..`, no backslashes or NULs.
const MODULE_PATH_PATTERN = /^(?!.*(?:^|\/)\.\.(?:\/|$))(?:\.\/)?[A-Za-z0-9_@][A-Za-z0-9_.@/-]*\.m?js$/;

/**
 * Checks a package.json `webmon` field and returns it typed (unknown keys are dropped). Throws
 * `PageError` `INVALID_MANIFEST` whose `field` names the bad field (`webmon`, `webmon.page`, `webmon.id`, …).
 */
export function readPageManifest(value: unknown, source = 'package.json'): PageManifest {
  const bad = (field: string, message: string): never => {
    throw new PageError(PageErrorCode.INVALID_MANIFEST, `${source}: "${field}" ${message}`, field);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return bad('webmon', 'must be an object { "page", "id", "title", "description"?, "topics" }');
  }
  const record = value as Record<string, unknown>;
  const { page, id, title, description, topics } = record;
  if (typeof page !== 'string' || !MODULE_PATH_PATTERN.test(page)) bad('webmon.page', 'must be the relative path of the browser module inside the package, e.g. "./dist/page.js"');
  const problem = pageMetadataProblem(record);
  if (problem) bad(`webmon.${problem.field}`, problem.message);
  return Object.freeze({
    page: page as string,
    id: id as string,
    title: title as string,
    ...(description === undefined ? {} : { description: description as string }),
    topics: Object.freeze([...(topics as string[])]),
  });
}

/** For hosts, after loading a module: throws `PageError` `MANIFEST_MISMATCH` when it defines another page. */
export function checkPageMatchesManifest(page: { readonly id: string }, manifest: { readonly id: string }, source = 'module'): void {
  if (page.id !== manifest.id) {
    throw new PageError(PageErrorCode.MANIFEST_MISMATCH, `${source} defines page "${page.id}", but its manifest says "${manifest.id}"`);
  }
}
