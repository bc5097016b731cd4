// publint and arethetypeswrong on each packed tarball (offline): what bundlers, Node and TypeScript
// resolve is what the package means. Findings are printed, so a failure says what to fix.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { describe, expect, inject, it } from 'vitest';
import { publishedPackages } from '../src/index.js';

const packed = inject('packed');
const attw = fileURLToPath(new URL('../node_modules/.bin/attw', import.meta.url));
const packages = publishedPackages().map((p) => [p.name] as const);

describe('publint', () => {
  it.each(packages)('%s has no publint error, warning or suggestion', async (name) => {
    const entry = packed[name]!;
    const tarball = readFileSync(entry.tarball);
    const { messages, pkg } = await publint({
      pack: { tarball: tarball.buffer.slice(tarball.byteOffset, tarball.byteOffset + tarball.byteLength) },
      strict: true,
      level: 'suggestion',
    });
    const findings = messages.map((m) => `${m.type}: ${formatMessage(m, pkg) ?? m.code}`);
    expect(findings).toEqual([]);
  });
});

describe('arethetypeswrong (esm-only profile)', () => {
  it.each(packages)('%s resolves its types under node16 and bundler resolution', (name) => {
    const entry = packed[name]!;
    let output = '';
    let status = 0;
    try {
      output = execFileSync(attw, ['--profile', 'esm-only', '--format', 'table-flipped', '--no-color', entry.tarball], {
        encoding: 'utf8',
        cwd: join(entry.unpacked, '..'),
      });
    } catch (error) {
      const failed = error as { status: number; stdout: string; stderr: string };
      status = failed.status;
      output = `${failed.stdout}\n${failed.stderr}`;
    }
    expect(status, output).toBe(0);
  });
});
