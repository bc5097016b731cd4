// The published shape of the package: it builds without Node built-ins, packs, installs with plain npm
// into an empty folder, imports as ESM and its types resolve.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const bin = (name: string) => join(packageDir, 'node_modules', '.bin', name);
const scratch = mkdtempSync(join(tmpdir(), 'webmon-protocol-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('@webmon/protocol as a package', () => {
  it('fails its build when the source imports a Node built-in', () => {
    const project = join(scratch, 'node-import');
    mkdirSync(join(project, 'src'), { recursive: true });
    writeFileSync(join(project, 'src', 'index.ts'), "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n");
    const result = spawnSync(bin('tsup'), ['--config', join(packageDir, 'tsup.config.ts'), '--no-dts'], { cwd: project, encoding: 'utf8' });
    expect(result.status).not.toBe(0);
    expect(`${result.stdout}${result.stderr}`).toContain('runtime-neutral: Node built-in "node:fs"');
  });

  it('packs, installs with npm into an empty folder, imports as ESM and type-checks', () => {
    execFileSync('pnpm', ['pack', '--pack-destination', scratch], { cwd: packageDir, stdio: 'pipe' });
    const tarball = readdirSync(scratch).find((file) => file.endsWith('.tgz'));
    expect(tarball).toBeDefined();
    const app = join(scratch, 'consumer');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', join(scratch, tarball!)], { cwd: app, stdio: 'pipe' });

    writeFileSync(
      join(app, 'check.mjs'),
      "import { SUBPROTOCOL, parseClientMessage, decodeFrame, encodeFrame } from '@webmon/protocol';\n" +
        "const message = parseClientMessage('{\"type\":\"subscribe\",\"topics\":[\"1\"]}');\n" +
        "const frame = decodeFrame(encodeFrame({ topic: 't', seq: 0, time: 0, dtype: 'float32', shape: [1] }, new Float32Array([2])));\n" +
        'console.log(JSON.stringify({ SUBPROTOCOL, layers: message.type === \'subscribe\' ? message.topics : [], value: frame.data[0] }));\n',
    );
    const output = execFileSync('node', ['check.mjs'], { cwd: app, encoding: 'utf8' });
    expect(JSON.parse(output)).toEqual({ SUBPROTOCOL: 'webmon.v1', layers: ['1'], value: 2 });

    writeFileSync(
      join(app, 'check.ts'),
      "import { parseServerMessage, type ServerMessage, type TopicInfo } from '@webmon/protocol';\n" +
        "const message: ServerMessage = parseServerMessage('{}');\n" +
        "const state: TopicInfo[] | undefined = message.type === 'hello' ? message.topics : undefined;\n" +
        'const wrong: number = message.type; // must be a type error\n' +
        'export { state, wrong };\n',
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, lib: ['ES2022', 'DOM'], types: [] }, files: ['check.ts'] }),
    );
    const tsc = spawnSync(bin('tsc'), ['-p', app], { encoding: 'utf8' });
    // Exactly the one deliberate error: the types resolved (else errors would name the module) and are precise.
    const errors = tsc.stdout.split('\n').filter((line) => line.includes('error TS'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("check.ts(4,7)");
    expect(errors[0]).toContain('not assignable to type \'number\'');
  });
});
