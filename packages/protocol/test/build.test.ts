// The package's build keeps it runtime-neutral: a Node built-in import fails it. (Installing the tarball and
// running its README example is tools/test-packages/test/examples-node.test.ts.)
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const bin = (name: string) => join(packageDir, 'node_modules', '.bin', name);
const scratch = mkdtempSync(join(tmpdir(), 'webmon-protocol-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('@webmon/protocol build', () => {
  it('fails its build when the source imports a Node built-in', () => {
    const project = join(scratch, 'node-import');
    mkdirSync(join(project, 'src'), { recursive: true });
    writeFileSync(join(project, 'src', 'index.ts'), "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n");
    const result = spawnSync(bin('tsup'), ['--config', join(packageDir, 'tsup.config.ts'), '--no-dts'], { cwd: project, encoding: 'utf8' });
    expect(result.status).not.toBe(0);
    expect(`${result.stdout}${result.stderr}`).toContain('runtime-neutral: Node built-in "node:fs"');
  });
});
