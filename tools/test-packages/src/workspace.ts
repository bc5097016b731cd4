// The published packages of the workspace: every package folder whose package.json is not private.
// Derived from the folders, never listed by hand, so a new package is checked the day it appears.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The workspace folders that hold packages (as in pnpm-workspace.yaml). */
const PACKAGE_FOLDERS = ['packages', 'apps', 'examples', 'tools'] as const;

export interface PackageManifest {
  name: string;
  version: string;
  private?: boolean;
  description?: string;
  license?: string;
  type?: string;
  bin?: Record<string, string> | string;
  files?: string[];
  exports?: Record<string, unknown>;
  engines?: Record<string, string>;
  repository?: { type: string; url: string; directory?: string } | string;
  homepage?: string;
  bugs?: { url: string } | string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  devDependencies?: Record<string, string>;
  scripts?: Record<string, string>;
  webmon?: Record<string, unknown>;
}

export interface WorkspacePackage {
  name: string;
  /** Absolute folder. */
  dir: string;
  /** Folder relative to the repository root, e.g. `packages/relay`. */
  path: string;
  manifest: PackageManifest;
}

export function workspacePackages(): WorkspacePackage[] {
  return PACKAGE_FOLDERS.flatMap((folder) => {
    const base = join(repoRoot, folder);
    if (!existsSync(base)) return [];
    return readdirSync(base)
      .filter((name) => existsSync(join(base, name, 'package.json')))
      .map((name) => {
        const manifest = JSON.parse(readFileSync(join(base, name, 'package.json'), 'utf8')) as PackageManifest;
        return { name: manifest.name, dir: join(base, name), path: `${folder}/${name}`, manifest };
      });
  });
}

/** Every package that is published to npm. */
export function publishedPackages(): WorkspacePackage[] {
  return workspacePackages().filter((p) => p.manifest.private !== true);
}

/** `name` and every published package it depends on at run time, transitively (what a consumer installs). */
export function withPublishedDependencies(names: readonly string[]): string[] {
  const byName = new Map(publishedPackages().map((p) => [p.name, p]));
  const seen = new Set<string>();
  const visit = (name: string): void => {
    const pkg = byName.get(name);
    if (pkg === undefined) throw new Error(`${name} is not a published package of this workspace`);
    if (seen.has(name)) return;
    seen.add(name);
    for (const dep of Object.keys({ ...pkg.manifest.dependencies, ...pkg.manifest.peerDependencies })) {
      if (byName.has(dep)) visit(dep);
    }
  };
  names.forEach(visit);
  return [...seen];
}
