// Browser bundle sizes, measured as a page would get them: the packed tarballs installed with plain npm
// into an empty folder, each entry bundled by esbuild (minified ESM for browsers; the peers a page brings
// once — three, vega — left external). Each bundle must stay within its budget (src/bundle-budgets.ts),
// hold no zod where the table says so, and match the figures its README states (a paragraph starting
// with **Bundle size**) within ±10 %.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BUNDLE_BUDGETS, type BundleBudget } from '../src/bundle-budgets.js';
import { bareImports, installTarballs, publishedPackages, repoRoot } from '../src/index.js';

const packed = inject('packed');
const dir = mkdtempSync(join(tmpdir(), 'webmon-bundles-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Measured {
  minified: number;
  gzipped: number;
  metafile: Metafile;
}
const measured = new Map<string, Measured>();

const kB = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;
const ZOD = /(^|\/)node_modules\/zod\//;

async function bundle(row: BundleBudget): Promise<Measured> {
  const result = await build({
    stdin: { contents: row.code, resolveDir: dir, loader: 'js', sourcefile: 'page.js' },
    absWorkingDir: dir,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    external: [...row.external],
    ignoreAnnotations: row.workerEntry ?? false,
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  const output = result.outputFiles[0]!.contents;
  return { minified: output.byteLength, gzipped: gzipSync(output, { level: 9 }).byteLength, metafile: result.metafile };
}

/**
 * The files that put bytes into the bundle. (`metafile.inputs` also lists every file esbuild read and then
 * shook out: zod is read whenever a schema module is reachable, even when none of it is kept.)
 */
function bundled(metafile: Metafile): Map<string, number> {
  const output = Object.values(metafile.outputs)[0]!;
  return new Map(Object.entries(output.inputs).filter(([, input]) => input.bytesInOutput > 0).map(([path, input]) => [path, input.bytesInOutput]));
}

/** The biggest contributors and who imports zod: what to look at when a bundle grew or zod got in. */
function attribution(metafile: Metafile): string {
  const files = bundled(metafile);
  const byPackage = new Map<string, number>();
  for (const [path, bytesInOutput] of files) {
    const name = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? path;
    byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
  }
  const top = [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([name, bytes]) => `${name} ${kB(bytes)}`);
  const zodImporters = [...files.keys()].filter((path) => !ZOD.test(path) && metafile.inputs[path]!.imports.some((imported) => ZOD.test(imported.path)));
  return `largest parts: ${top.join(', ')}${zodImporters.length > 0 ? `; zod is imported by ${zodImporters.join(', ')}` : ''}`;
}

/**
 * The sizes a README states for `label` in a paragraph that starts with **Bundle size**:
 * `` `label` 19.4 kB minified, 6.9 kB gzipped `` (line breaks anywhere).
 */
function readmeFigures(markdown: string, label: string): { minified: number; gzipped: number } | undefined {
  const escaped = label.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const pattern = new RegExp(`\`${escaped}\`[^\`]*?(\\d+(?:\\.\\d+)?) kB minified, (\\d+(?:\\.\\d+)?) kB gzipped`);
  for (const paragraph of markdown.split(/\n\s*\n/).filter((p) => p.startsWith('**Bundle size**'))) {
    const match = pattern.exec(paragraph.replace(/\s+/g, ' '));
    if (match) return { minified: Number(match[1]) * 1000, gzipped: Number(match[2]) * 1000 };
  }
  return undefined;
}

beforeAll(async () => {
  const names = [...new Set(BUNDLE_BUDGETS.flatMap((row) => bareImports(row.code)))];
  // Peers are external, so they need not be installed: npm would otherwise fetch three and vega.
  installTarballs(packed, dir, names, { env: { npm_config_legacy_peer_deps: 'true' } });
  for (const row of BUNDLE_BUDGETS) measured.set(row.label, await bundle(row));
  console.log(
    `browser bundles (esbuild, minified ESM, gzip -9), from the packed tarballs:\n${BUNDLE_BUDGETS.map((row) => {
      const { minified, gzipped } = measured.get(row.label)!;
      return `  ${row.label.padEnd(24)} ${kB(minified).padStart(9)} min  ${kB(gzipped).padStart(8)} gz   (budget ${kB(row.minified)} / ${kB(row.gzipped)}${row.external.length > 0 ? `; external: ${row.external.join(', ')}` : ''})`;
    }).join('\n')}`,
  );
});

const rows = BUNDLE_BUDGETS.map((row) => [row.label, row] as const);

describe('browser bundles, from the packed tarballs', () => {
  it.each(rows)('%s is bundled from the installed tarballs only', (_label, row) => {
    const inputs = [...bundled(measured.get(row.label)!.metafile).keys()];
    const ours = inputs.filter((path) => path.includes('@webmon/'));
    expect(ours.length, 'some of our code is in the bundle').toBeGreaterThan(0);
    expect(inputs.filter((path) => path !== 'page.js' && !path.startsWith('node_modules/')), 'everything comes from the consumer folder').toEqual([]);
  });

  it.each(rows)('%s stays within its budget', (_label, row) => {
    const { minified, gzipped, metafile } = measured.get(row.label)!;
    const advice = `${row.label}: ${kB(minified)} minified, ${kB(gzipped)} gzipped against a budget of ${kB(row.minified)} / ${kB(row.gzipped)} (${attribution(metafile)}). Make it smaller, or raise its budget in tools/test-packages/src/bundle-budgets.ts and say why in the commit.`;
    expect(minified, advice).toBeLessThanOrEqual(row.minified);
    expect(gzipped, advice).toBeLessThanOrEqual(row.gzipped);
  });

  it.each(rows.filter(([, row]) => row.zodFree))('%s holds no zod', (_label, row) => {
    const { metafile } = measured.get(row.label)!;
    const zod = [...bundled(metafile).keys()].filter((path) => ZOD.test(path));
    expect(zod, `${row.label} pulls in zod (${attribution(metafile)})`).toEqual([]);
  });

  it.each(rows)('%s: its README states its size within ±10 %', (_label, row) => {
    const pkg = publishedPackages().find((p) => p.name === row.readme);
    expect(pkg, `${row.readme} is a published package`).toBeDefined();
    const readmePath = join(pkg!.dir, 'README.md');
    const { minified, gzipped } = measured.get(row.label)!;
    const wanted = `\`${row.label}\` ${kB(minified)} minified, ${kB(gzipped)} gzipped`;
    const stated = readmeFigures(readFileSync(readmePath, 'utf8'), row.label);
    const where = relative(repoRoot, readmePath);
    expect(stated, `${where} has no paragraph starting with **Bundle size** that names ${row.label}: add one that says ${wanted}`).toBeDefined();
    const off = (statedBytes: number, actual: number) => Math.abs(statedBytes - actual) / actual > 0.1;
    const message = `${where} says \`${row.label}\` ${kB(stated!.minified)} minified, ${kB(stated!.gzipped)} gzipped; measured ${kB(minified)} / ${kB(gzipped)}. Update its **Bundle size** paragraph to: ${wanted}`;
    expect(off(stated!.minified, minified) || off(stated!.gzipped, gzipped), message).toBe(false);
  });
});
