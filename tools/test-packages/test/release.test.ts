// The release path itself: changesets agree with what changed, and a dry-run `pnpm publish -r` would
// publish every published package at its version (workspace ranges replaced, public access).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { plainNpmEnv, pnpmCommand, publishedPackages, repoRoot } from '../src/index.js';

const [pnpm, pnpmPrefix] = pnpmCommand();

function run(args: string[]): { status: number; output: string } {
  try {
    const output = execFileSync(pnpm, [...pnpmPrefix, ...args], { cwd: repoRoot, encoding: 'utf8', stdio: 'pipe', env: plainNpmEnv() });
    return { status: 0, output };
  } catch (error) {
    const failed = error as { status: number; stdout: string; stderr: string };
    return { status: failed.status, output: `${failed.stdout}\n${failed.stderr}` };
  }
}

describe('release', () => {
  it('`changeset status` passes: every changed package has a changeset', () => {
    const { status, output } = run(['exec', 'changeset', 'status']);
    expect(status, output).toBe(0);
  });

  it('every scoped package publishes with public access', () => {
    for (const { name, manifest } of publishedPackages()) {
      if (name.startsWith('@')) expect((manifest as { publishConfig?: { access?: string } }).publishConfig?.access, name).toBe('public');
    }
  });

  it('a dry-run `pnpm publish -r` publishes every published package and nothing else', () => {
    const { status, output } = run(['-r', 'publish', '--dry-run', '--no-git-checks']);
    expect(status, output).toBe(0);
    const published = [...output.matchAll(/^\+ (\S+)@(\S+)$/gm)].map((m) => `${m[1]}@${m[2]}`).sort();
    const expected = publishedPackages().map((p) => `${p.name}@${p.manifest.version}`).sort();
    expect(published).toEqual(expected);
    expect(output).not.toMatch(/workspace:/);
  });
});
