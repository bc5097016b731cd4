/**
 * Finds page packages and reads their definitions. A page package says where its browser module is
 * in package.json (`"webmon": { "page": "./dist/page.js" }`); the module's `page` export (from
 * `definePage`) gives id, title and topics. The module is imported here once to check it, so a broken
 * page fails at startup with its name rather than as a blank tab.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pageFromModule, type Page } from '@webmon/page-kit';
import { WebmonError, WebmonErrorCode } from './errors.js';

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
 * Loads the built-in pages (module files), then packages the app adds by default (already located),
 * then the named packages, in that order.
 */
export async function loadPages(
  builtIn: readonly string[],
  packages: readonly string[],
  searchPaths: readonly string[],
  defaults: readonly { file: string; origin: string }[] = [],
): Promise<PageEntry[]> {
  const entries: PageEntry[] = [];
  for (const file of builtIn) entries.push(await readPageModule(file, 'built-in'));
  for (const { file, origin } of defaults) entries.push(await readPageModule(file, origin));
  for (const name of packages) {
    const { file, origin } = locatePagePackage(name, searchPaths);
    entries.push(await readPageModule(file, origin));
  }
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
export function locatePagePackage(name: string, searchPaths: readonly string[]): { file: string; origin: string } {
  const packageDir = findPackageDir(name, searchPaths);
  if (packageDir === undefined) {
    throw new WebmonError(
      WebmonErrorCode.PAGE_NOT_FOUND,
      `page package "${name}" not found (looked in node_modules from ${searchPaths.join(', ')}). Install it there: npm install ${name}`,
    );
  }
  const manifestPath = join(packageDir, 'package.json');
  let manifest: { name?: unknown; version?: unknown; webmon?: { page?: unknown } };
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as typeof manifest;
  } catch (error) {
    throw new WebmonError(WebmonErrorCode.BAD_PAGE, `page package "${name}": cannot read ${manifestPath}: ${(error as Error).message}`, { cause: error });
  }
  const page = typeof manifest === 'object' && manifest !== null ? manifest.webmon?.page : undefined;
  if (typeof page !== 'string' || page === '') {
    throw new WebmonError(WebmonErrorCode.BAD_PAGE, `"${name}" is not a webmon page package: its package.json has no "webmon": { "page": "<browser module>" }`);
  }
  const file = resolve(packageDir, page);
  if (!file.startsWith(packageDir + '/') || !existsSync(file) || !statSync(file).isFile()) {
    throw new WebmonError(WebmonErrorCode.BAD_PAGE, `page package "${name}": its page module ${page} is missing (was the package built?)`);
  }
  const label = typeof manifest.name === 'string' ? manifest.name : name;
  const version = typeof manifest.version === 'string' ? `@${manifest.version}` : '';
  return { file, origin: `${label}${version}` };
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

async function readPageModule(file: string, origin: string): Promise<PageEntry> {
  let module: unknown;
  try {
    module = await import(pathToFileURL(file).href);
  } catch (error) {
    throw new WebmonError(
      WebmonErrorCode.BAD_PAGE,
      `page ${origin} (${file}) failed to load: ${(error as Error).message}. A page module must not touch the DOM when imported; do that in mount().`,
      { cause: error },
    );
  }
  let page: Page;
  try {
    page = pageFromModule(module, `page ${origin}`);
  } catch (error) {
    throw new WebmonError(WebmonErrorCode.BAD_PAGE, (error as Error).message, { cause: error });
  }
  return {
    id: page.id,
    title: page.title,
    description: page.description,
    topics: page.topics,
    dir: dirname(file),
    moduleFile: basename(file),
    origin,
  };
}
