// Packing with pnpm (it turns `workspace:` ranges into versions, as `pnpm publish` does).
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkspacePackage } from './workspace.js';

/** The pnpm that runs this process when there is one (so the pinned version packs), else `pnpm` on PATH. */
export function pnpmCommand(): [string, string[]] {
  const script = process.env['npm_execpath'];
  return script && /pnpm/.test(script) ? [process.execPath, [script]] : ['pnpm', []];
}

export interface PackedPackage {
  name: string;
  version: string;
  /** Absolute path of the `.tgz`. */
  tarball: string;
  /** Size of the tarball in bytes. */
  bytes: number;
  /** Where the tarball is (or will be) unpacked: its files are under `<unpacked>/package/`. */
  unpacked: string;
}

/** `pnpm pack` one package into `into`; returns the tarball written. */
export function packPackage(pkg: WorkspacePackage, into: string): PackedPackage {
  const [command, prefix] = pnpmCommand();
  const before = new Set(readdirSync(into));
  execFileSync(command, [...prefix, 'pack', '--pack-destination', into], { cwd: pkg.dir, stdio: 'pipe' });
  const file = readdirSync(into).find((name) => name.endsWith('.tgz') && !before.has(name));
  if (file === undefined) throw new Error(`pnpm pack wrote no tarball for ${pkg.name}`);
  const tarball = join(into, file);
  return { name: pkg.name, version: pkg.manifest.version, tarball, bytes: statSync(tarball).size, unpacked: tarball.replace(/\.tgz$/, '') };
}
