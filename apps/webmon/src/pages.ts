/**
 * Finds page packages and reads their metadata from package.json alone: the `webmon` field names the
 * browser module and carries id, title, description and topics. Page code never runs in this process
 * (a package in napari's working directory must not be able to run code here); the browser checks
 * that the module defines the page its manifest promised.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { PageError, readPageManifest, type PageManifest } from '@webmon/page-kit';
import { WebmonError, WebmonErrorCode } from './errors.js';
import { BUILT_IN_PAGES, builtInModule } from './pages/built-in.js';

export interface PageEntry {
  id: string;
  title: string;
  description: string | undefined;
  topics: readonly string[];
  /** The directory served at `/pages/<id>/` (the module's own directory, for its chunks and maps). */
  dir: string;
  /** The module's file name inside `dir`. */
  moduleFile: string;
  /** `built-in`, or the package name and version. */
  origin: string;
}

/**
 * Lists the built-in pages (modules under `distDir`), then pages the app adds by default (already
 * located), then the named packages, in that order.
 */
export function loadPages(distDir: string, packages: readonly string[], searchPaths: readonly string[], defaults: readonly PageEntry[] = []): PageEntry[] {
  const entries = [
    ...Object.values(BUILT_IN_PAGES).map((metadata) => pageEntry(distDir, readPageManifest({ ...metadata, page: `./${builtInModule(metadata.id)}.js` }), 'built-in')),
    ...defaults,
    ...packages.map((name) => locatePagePackage(name, searchPaths)),
  ];
  const seen = new Map<string, string>();
  for (const entry of entries) {
    const other = seen.get(entry.id);
    if (other !== undefined) {
      throw new WebmonError(WebmonErrorCode.DUPLICATE_PAGE, `two pages have the id "${entry.id}": ${other} and ${entry.origin}`);
    }
    seen.set(entry.id, entry.origin);
  }
  return entries;
}

/** Resolves a package name (Node's node_modules lookup from each search path) or a package directory path. */
export function locatePagePackage(name: string, searchPaths: readonly string[]): PageEntry {
  const packageDir = findPackageDir(name, searchPaths);
  if (packageDir === undefined) {
    throw new WebmonError(
      WebmonErrorCode.PAGE_NOT_FOUND,
      `page package "${name}" not found (looked in node_modules from ${searchPaths.join(', ')}). Install it there: npm install ${name}`,
    );
  }
  const manifestPath = join(packageDir, 'package.json');
  let packageJson: { name?: unknown; version?: unknown; webmon?: unknown };
  try {
    packageJson = JSON.parse(readFileSync(manifestPath, 'utf8')) as typeof packageJson;
  } catch (error) {
    throw new WebmonError(WebmonErrorCode.BAD_PAGE, `page package "${name}": cannot read ${manifestPath}: ${(error as Error).message}`, { cause: error });
  }
  const field = typeof packageJson === 'object' && packageJson !== null ? packageJson.webmon : undefined;
  if (field === undefined) {
    throw new WebmonError(WebmonErrorCode.BAD_PAGE, `"${name}" is not a webmon page package: its package.json has no "webmon": { "page", "id", "title", "topics" }`);
  }
  let manifest: PageManifest;
  try {
    manifest = readPageManifest(field, `page package "${name}" (${manifestPath})`);
  } catch (error) {
    if (!(error instanceof PageError)) throw error;
    throw new WebmonError(WebmonErrorCode.BAD_PAGE, error.message, { cause: error });
  }
  const label = typeof packageJson.name === 'string' ? packageJson.name : name;
  const version = typeof packageJson.version === 'string' ? `@${packageJson.version}` : '';
  return pageEntry(packageDir, manifest, `${label}${version}`);
}

function pageEntry(baseDir: string, manifest: PageManifest, origin: string): PageEntry {
  const file = resolve(baseDir, manifest.page);
  if (!file.startsWith(resolve(baseDir) + '/') || !existsSync(file) || !statSync(file).isFile()) {
    throw new WebmonError(WebmonErrorCode.BAD_PAGE, `page ${origin}: its page module ${manifest.page} is missing (was the package built?)`);
  }
  return {
    id: manifest.id,
    title: manifest.title,
    description: manifest.description,
    topics: manifest.topics,
    dir: dirname(file),
    moduleFile: basename(file),
    origin,
  };
}

function findPackageDir(name: string, searchPaths: readonly string[]): string | undefined {
  if (name.startsWith('.') || isAbsolute(name)) {
    for (const base of searchPaths) {
      const dir = resolve(base, name);
      if (existsSync(join(dir, 'package.json'))) return dir;
    }
    return undefined;
  }
  if (!/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i.test(name)) return undefined;
  for (const base of searchPaths) {
    for (let dir = resolve(base); ; dir = dirname(dir)) {
      const candidate = join(dir, 'node_modules', name);
      if (existsSync(join(candidate, 'package.json'))) return candidate;
      if (dirname(dir) === dir) break;
    }
  }
  return undefined;
}
