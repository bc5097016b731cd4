// The published shape of the package: packed with the webmon packages it depends on, installed with plain
// npm into an empty folder, its README's example runs as written (main entry) and the Node entry loads.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const packagesDir = fileURLToPath(new URL('../../', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'webmon-napari-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** `pnpm pack` (workspace ranges become versions), using the pnpm that runs this test when there is one. */
function pack(name: string, into: string): string {
  const pnpmScript = process.env['npm_execpath'];
  const [command, prefix] = pnpmScript && /pnpm/.test(pnpmScript) ? [process.execPath, [pnpmScript]] : ['pnpm', []];
  const before = new Set(readdirSync(into));
  execFileSync(command, [...prefix, 'pack', '--pack-destination', into], { cwd: join(packagesDir, name), stdio: 'pipe' });
  const tarball = readdirSync(into).find((file) => file.endsWith('.tgz') && !before.has(file));
  if (tarball === undefined) throw new Error(`pnpm pack wrote no tarball for ${name}`);
  return join(into, tarball);
}

describe('@webmon/napari as a package', () => {
  it('installs from its tarball with npm, runs its README example, and loads its Node entry', () => {
    const tarballs = join(scratch, 'tarballs');
    mkdirSync(tarballs);
    const files = ['napari', 'protocol', 'relay', 'shm-reader'].map((name) => pack(name, tarballs));
    const app = join(scratch, 'consumer');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...files], { cwd: app, stdio: 'pipe' });

    // The README's example, as written (with the input it reads).
    writeFileSync(
      join(app, 'example.mjs'),
      [
        "import { napariTopicNames, parsePoll, parseNapariMessage, napariPayloadValidators } from '@webmon/napari';",
        "const poll = parsePoll({ layers: { '140234': {} } });",
        'for (const event of parseNapariMessage({ frame_time: { time: 1.7e9, delta_ms: 16.7 } })) {',
        "  if (event.kind === 'frame_time') console.log(event.data.delta_ms);",
        '}',
        "const topics = napariTopicNames('napari');",
        'console.log(topics.layers, topics.data(\'my_plugin\'), topics.message(\'my_event\'));',
        "console.log(Object.keys(poll.layers).join(), Object.keys(napariPayloadValidators).length);",
        "const node = await import('@webmon/napari/node');",
        "console.log(typeof node.createNapariBridge, typeof node.NapariClient.connect);",
      ].join('\n'),
    );
    const output = execFileSync('node', ['example.mjs'], { cwd: app, encoding: 'utf8' }).trim().split('\n');
    expect(output).toEqual(['16.7', 'napari.layers napari.data.my_plugin napari.message.my_event', '140234 5', 'function function']);
  }, 240_000);
});
