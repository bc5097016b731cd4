// What npm users see of each package: licence, links, engines, peer ranges, README links — read from the
// unpacked tarball, not from the workspace.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { publishedPackages, repoRoot, type PackageManifest } from '../src/index.js';

const packed = inject('packed');
const rootManifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as PackageManifest;
const rootLicense = readFileSync(join(repoRoot, 'LICENSE'), 'utf8');
const repositoryUrl = typeof rootManifest.repository === 'object' ? rootManifest.repository.url : '';
const repositoryWeb = repositoryUrl.replace(/^git\+/, '').replace(/\.git$/, '');

const packages = publishedPackages().map((p) => [p.name, p] as const);
const contents = (name: string): string => join(packed[name]!.unpacked, 'package');
const shippedManifest = (name: string): PackageManifest =>
  JSON.parse(readFileSync(join(contents(name), 'package.json'), 'utf8')) as PackageManifest;

/** A range with an upper bound: `<x`, or a caret/tilde/exact range (which npm bounds by itself). */
function isBounded(range: string): boolean {
  return range.split('||').every((part) => /<\s*\d/.test(part) || /^\s*[\^~]?\d+\.\d+\.\d+\s*$/.test(part));
}

function declarationFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.d\.[cm]?ts$/.test(f)).map((f) => join(dir, f));
}

describe('package metadata, as published', () => {
  it('the repository names itself once, in the root package.json', () => {
    expect(repositoryUrl).toMatch(/^git\+https:\/\/github\.com\/[\w-]+\/[\w-]+\.git$/);
    expect(rootManifest.license).toBe('BSD-3-Clause');
  });

  it.each(packages)('%s ships the repository LICENSE and says BSD-3-Clause', (name) => {
    expect(readFileSync(join(contents(name), 'LICENSE'), 'utf8')).toBe(rootLicense);
    expect(shippedManifest(name).license).toBe('BSD-3-Clause');
  });

  it.each(packages)('%s links to its folder of the repository, its README and the issue tracker', (name, pkg) => {
    const manifest = shippedManifest(name);
    expect(manifest.repository).toEqual({ type: 'git', url: repositoryUrl, directory: pkg.path });
    expect(manifest.homepage).toBe(`${repositoryWeb}/tree/main/${pkg.path}#readme`);
    expect(manifest.bugs).toEqual({ url: `${repositoryWeb}/issues` });
  });

  it.each(packages)('%s states the Node versions it supports', (name) => {
    expect(shippedManifest(name).engines?.['node']).toMatch(/^>=\d+\.\d+/);
  });

  it.each(packages)('%s bounds every peer range', (name) => {
    for (const [peer, range] of Object.entries(shippedManifest(name).peerDependencies ?? {})) {
      expect(isBounded(range), `${peer}@${range}`).toBe(true);
    }
  });

  it.each(packages)('%s declares the @types its declarations need, as optional peers', (name) => {
    const manifest = shippedManifest(name);
    const declarations = declarationFiles(join(contents(name), 'dist')).map((f) => readFileSync(f, 'utf8')).join('\n');
    const needs: string[] = [];
    if (/from ['"]node:|\bNodeJS\.|\bBuffer\b/.test(declarations)) needs.push('@types/node');
    if (/from ['"]three['"]/.test(declarations)) needs.push('@types/three');
    for (const types of needs) {
      expect(manifest.peerDependencies?.[types], `${name} needs ${types}`).toBeDefined();
      expect(manifest.peerDependenciesMeta?.[types]?.optional, `${types} is optional`).toBe(true);
    }
  });

  it.each(packages)('%s: every README link works on the registry page (absolute, or a file in the tarball)', (name) => {
    const readme = readFileSync(join(contents(name), 'README.md'), 'utf8').replace(/```[\s\S]*?```/g, '');
    const broken: string[] = [];
    for (const match of readme.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)|^\[[^\]]+\]:\s*(\S+)/gm)) {
      const target = (match[1] ?? match[2])!;
      if (/^(https?:|mailto:|#)/.test(target)) continue;
      const file = target.split('#')[0]!;
      if (!existsSync(join(contents(name), file))) broken.push(target);
    }
    expect(broken).toEqual([]);
  });
});
