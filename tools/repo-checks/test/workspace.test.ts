// The workspace's own rules, checked on every test run so they stay true as packages grow.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

interface Manifest {
  name: string;
  private?: boolean;
  type?: string;
  sideEffects?: boolean;
  files?: string[];
  exports?: Record<string, unknown>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

function packagesIn(folder: string): { dir: string; manifest: Manifest }[] {
  const base = join(root, folder);
  if (!existsSync(base)) return [];
  return readdirSync(base)
    .map((name) => join(base, name))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest }));
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|tsx|mts)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = new Set<string>();
  for (const match of text.matchAll(/(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    specifiers.add((match[1] ?? match[2])!);
  }
  return [...specifiers];
}

const published = packagesIn('packages');
const allPackages = [...published, ...packagesIn('apps'), ...packagesIn('examples')];

/** Which of our packages each package may import (dependencies point down). */
const allowed: Record<string, string[]> = {
  '@webmon/protocol': [],
  '@webmon/shm-reader': ['@webmon/protocol'],
  '@webmon/relay': ['@webmon/protocol'],
  '@webmon/page-kit': ['@webmon/protocol', '@webmon/relay'],
  '@webmon/napari': ['@webmon/protocol', '@webmon/shm-reader', '@webmon/relay'],
  // Widgets know napari's data shapes, never the relay.
  '@webmon/tile-viewer': ['@webmon/napari'],
  '@webmon/loader-charts': ['@webmon/napari'],
  // Numbers over time: no napari, no relay.
  '@webmon/time-series': [],
  // A generic widget: array shapes and view headers (protocol types, float16 read-back), no napari, no relay.
  '@webmon/image-view': ['@webmon/protocol'],
  // A page over any source: the page contract, the widgets, protocol types; no napari.
  '@webmon/page-explorer': ['@webmon/protocol', '@webmon/page-kit', '@webmon/time-series', '@webmon/image-view'],
};
/** Where a package may import only some entries of another (e.g. the browser client, not the Node server). */
const allowedEntries: Record<string, Record<string, string[]>> = {
  '@webmon/page-kit': { '@webmon/relay': ['@webmon/relay/client'] },
};
/** Packages whose code runs in browsers (for `@webmon/napari`: all but its Node entry, `src/node/`). */
const browserPackages = new Set(['@webmon/protocol', '@webmon/napari', '@webmon/page-kit', '@webmon/tile-viewer', '@webmon/image-view', '@webmon/loader-charts', '@webmon/time-series', '@webmon/page-explorer']);
const nodeOnlyFolder = (file: string): boolean => /[\/]src[\/]node[\/]/.test(file);
/** The generic core: it must not know its first user. */
const generic = ['@webmon/protocol', '@webmon/relay', '@webmon/page-kit', '@webmon/page-explorer'];

describe('workspace rules', () => {
  it('has the packages of the design card', () => {
    expect(published.map((p) => p.manifest.name)).toContain('@webmon/protocol');
    // Libraries live in the @webmon scope; the app is the unscoped `webmon` (the name napari users type).
    for (const { manifest } of allPackages) expect(manifest.name).toMatch(/^(@webmon\/[a-z][\w-]*|webmon)$/);
    expect(packagesIn('apps').map((p) => p.manifest.name)).toEqual(['webmon']);
  });

  it.each(published.map((p) => [p.manifest.name, p] as const))('%s is a well-formed ESM package', (_name, { dir, manifest }) => {
    expect(manifest.type).toBe('module');
    expect(manifest.sideEffects).toBe(false);
    expect(manifest.files).toContain('dist');
    expect(existsSync(join(dir, 'README.md')), 'README.md').toBe(true);
    expect(existsSync(join(dir, 'src', 'index.ts')), 'src/index.ts').toBe(true);
    for (const [entry, conditions] of Object.entries(manifest.exports ?? {})) {
      if (entry === './package.json' || typeof conditions === 'string') continue;
      expect(Object.keys(conditions as object)[0], `${entry}: types first`).toBe('types');
    }
  });

  it.each(allPackages.map((p) => [p.manifest.name, p] as const))('%s imports only what its layer allows', (name, { dir }) => {
    const ours = allowed[name];
    for (const file of sourceFiles(join(dir, 'src'))) {
      for (const specifier of importsOf(file)) {
        const where = relative(root, file);
        expect(specifier.includes('/src/') && !specifier.startsWith('.'), `${where}: no deep import ${specifier}`).toBe(false);
        expect(specifier === 'webmon' || specifier.startsWith('webmon/'), `${where}: no package imports the app`).toBe(false);
        if (ours && specifier.startsWith('@webmon/')) {
          const target = specifier.split('/').slice(0, 2).join('/');
          expect(ours, `${where} imports ${specifier}`).toContain(target);
          const entries = allowedEntries[name]?.[target];
          if (entries) expect(entries, `${where} imports ${specifier}`).toContain(specifier);
        }
        if (browserPackages.has(name) && !nodeOnlyFolder(file)) {
          expect(/^node:|^(fs|path|os|net|http|child_process|crypto|url)$/.test(specifier), `${where}: browser code imports ${specifier}`).toBe(false);
        }
      }
    }
  });

  it.each(generic)('%s knows nothing of napari: no napari name, schema or topic in its code or manifest', (name) => {
    const found = published.find((p) => p.manifest.name === name);
    expect(found, name).toBeDefined();
    const { dir, manifest } = found!;
    const offending: string[] = [];
    for (const file of sourceFiles(join(dir, 'src'))) {
      readFileSync(file, 'utf8').split('\n').forEach((line, index) => {
        if (/napari/i.test(line)) offending.push(`${relative(root, file)}:${index + 1}: ${line.trim()}`);
      });
    }
    const { description, keywords } = manifest as Manifest & { description?: string; keywords?: string[] };
    if (/napari/i.test(description ?? '') || (keywords ?? []).some((keyword) => /napari/i.test(keyword))) offending.push(`${name}/package.json: description or keywords`);
    expect(offending, 'napari belongs in @webmon/napari').toEqual([]);
  });

  it('declares every workspace import as a dependency', () => {
    for (const { dir, manifest } of allPackages) {
      const declared = { ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.devDependencies };
      for (const file of sourceFiles(join(dir, 'src'))) {
        for (const specifier of importsOf(file)) {
          if (!specifier.startsWith('@webmon/')) continue;
          const target = specifier.split('/').slice(0, 2).join('/');
          if (target === manifest.name) continue;
          expect(declared, `${manifest.name} uses ${target}`).toHaveProperty([target]);
        }
      }
    }
  });

  it('has a valid changesets config (the app versioned like the packages)', () => {
    // The app is published (`npm install -g webmon`): ignoring it would publish it with stale versions.
    const config = JSON.parse(readFileSync(join(root, '.changeset', 'config.json'), 'utf8')) as { ignore?: string[] };
    const app = packagesIn('apps').map((p) => p.manifest);
    for (const manifest of app) {
      expect(manifest.private, `${manifest.name} is published`).not.toBe(true);
      expect(config.ignore ?? [], 'changeset ignore list').not.toContain(manifest.name);
    }
    const output = execFileSync('pnpm', ['exec', 'changeset', 'status'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    });
    // eslint-disable-next-line no-control-regex
    expect(output.replace(/\u001b\[[0-9;]*m/g, '')).toMatch(/NO packages to be bumped|Packages to be bumped/);
  });
});
