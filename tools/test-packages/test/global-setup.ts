// Packs every published package once per run; the tests read the tarballs through `inject('packed')`.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { packPackage, publishedPackages, type PackedPackage } from '../src/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    packed: Record<string, PackedPackage>;
    tarballDir: string;
  }
}

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'webmon-tarballs-'));
  const packed: Record<string, PackedPackage> = {};
  for (const pkg of publishedPackages()) {
    const entry = packPackage(pkg, dir);
    // Unpacked once, so tests read what a consumer gets (`<unpacked>/package/…`).
    mkdirSync(entry.unpacked, { recursive: true });
    execFileSync('tar', ['-xzf', entry.tarball, '-C', entry.unpacked]);
    packed[pkg.name] = entry;
  }
  // The sizes users download, printed once per run (the release notes quote them).
  const rows = Object.values(packed).map((p) => `  ${p.name.padEnd(24)} ${(p.bytes / 1024).toFixed(1).padStart(8)} kB`);
  process.stdout.write(`packed tarballs:\n${rows.join('\n')}\n`);
  project.provide('packed', packed);
  project.provide('tarballDir', dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
