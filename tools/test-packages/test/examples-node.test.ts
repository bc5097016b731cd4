// The Node packages as a user meets them: each README's first example is a file of the tarball, its install
// lines are run with plain npm in an empty folder (the webmon tarballs, third-party packages from the
// registry), and the example — copied out of the installed package — runs with node against real peers
// (sockets on port 0, CPython managers). Every other code block of these READMEs is type-checked against the
// installed packages, so no README names something it never defines.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { NapariFixture, interpreterMatrix } from '@webmon/test-python';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { bareImports, blockFile, codeBlocks, fileBlocks, installTarballs, installedPackages, plainNpmEnv, readmeExampleFile } from '../src/index.js';

const packed = inject('packed');
const NODE_PACKAGES = ['@webmon/protocol', '@webmon/relay', '@webmon/shm-reader', '@webmon/napari', '@webmon/recorder'] as const;
const scratch = mkdtempSync(join(tmpdir(), 'webmon-examples-node-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The package as the tarball holds it (README, examples), not as the workspace does. */
const shipped = (name: string): string => join(packed[name]!.unpacked, 'package');
/** The newest CPython found: SharedMemoryManager needs 3.9+, and the newest is what a user most likely has. */
const python = interpreterMatrix().all.at(-1)!;

interface Consumer {
  dir: string;
  /** The example, copied out of the installed package into the consumer folder. */
  example: string;
  readme: string;
}

/**
 * An empty folder with exactly what the README's install lines name (webmon packages from their tarballs,
 * the rest from the registry), and the README's first example copied in from the installed package.
 */
function consumer(name: string, env: Record<string, string> = {}): Consumer {
  const { example, readme } = readmeExampleFile(shipped(name));
  const names = installedPackages(readme);
  const dir = join(scratch, `${basename(name)}-${Math.random().toString(36).slice(2, 8)}`);
  installTarballs(
    packed,
    dir,
    names.filter((n) => n.startsWith('@webmon/')),
    { from_registry: names.filter((n) => !n.startsWith('@webmon/')), env },
  );
  const file = join(dir, basename(example.file));
  copyFileSync(join(dir, 'node_modules', name, example.file), file);
  return { dir, example: file, readme };
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs node like a user in `cwd`; a process that does not exit by itself is killed and fails the test. */
function runNode(cwd: string, args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<Run> {
  return finished(spawn(process.execPath, args, { cwd, env: plainNpmEnv(env), stdio: ['ignore', 'pipe', 'pipe'] }), timeoutMs);
}

function finished(child: ChildProcess, timeoutMs: number): Promise<Run> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      // 'exit' can come before the pipes are drained; 'close' comes after.
      child.on('close', () => resolve({ code, signal, stdout, stderr }));
    });
  });
}

/** The `text` block that follows the first example: what the README says it prints. */
function printedBlock(readme: string): string {
  const blocks = codeBlocks(readme);
  const example = blocks.findIndex((b) => blockFile(b) !== null);
  const printed = blocks.slice(example + 1).find((b) => b.lang === 'text');
  if (printed === undefined) throw new Error('no text block after the example');
  return printed.text;
}

/** The addon status as a consumer's program sees it. */
async function addonStatus(dir: string, env: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const run = await runNode(dir, ['--input-type=module', '-e', "import { nativeAddonStatus } from '@webmon/shm-reader'; console.log(JSON.stringify(nativeAddonStatus()));"], env);
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

describe('Node packages: README examples, from the tarballs', () => {
  it.each(NODE_PACKAGES.map((n) => [n] as const))('%s: the first example is a shipped file, and every marked block is its file', (name) => {
    const { example, readme } = readmeExampleFile(shipped(name));
    expect(example.file).toMatch(/^examples\/[\w-]+\.mjs$/);
    for (const block of fileBlocks(readme)) {
      expect(readFileSync(join(shipped(name), block.file), 'utf8').replace(/^[^\n]*\n/, '').trim(), block.file).toBe(block.text.trim());
    }
  });

  it.each(NODE_PACKAGES.map((n) => [n] as const))('%s: the install lines name every package a code block imports, with npm', (name) => {
    const readme = readFileSync(join(shipped(name), 'README.md'), 'utf8');
    const installed = installedPackages(readme);
    const imported = new Set(codeBlocks(readme).filter((b) => ['js', 'ts'].includes(b.lang)).flatMap((b) => bareImports(b.text)));
    expect(installed).toEqual(expect.arrayContaining([...imported]));
    // npm users are the audience; pnpm users read the same names (a pnpm line would not be run as written).
    expect(readme).not.toMatch(/^\s*(pnpm add|yarn add)\b/m);
  });

  it('@webmon/protocol: messages.mjs prints what the README says, copied out or run in place', async () => {
    const { dir, example, readme } = consumer('@webmon/protocol');
    const copied = await runNode(dir, [example]);
    expect(copied.stderr).toBe('');
    expect(copied.code).toBe(0);
    expect(copied.stdout).toBe(printedBlock(readme));
    expect(copied.stdout).toContain('0,1024,2048,4095 zero-copy view');
    const inPlace = await runNode(dir, ['node_modules/@webmon/protocol/examples/messages.mjs']);
    expect(inPlace.stdout).toBe(copied.stdout);
  });

  it('@webmon/relay: relay.mjs publishes, receives, runs a command and exits by itself', async () => {
    const { dir, example, readme } = consumer('@webmon/relay');
    const started = Date.now();
    const run = await runNode(dir, [example], {}, 20_000);
    expect(run.signal, 'killed: the example did not exit by itself').toBeNull();
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(printedBlock(readme));
    expect(Date.now() - started).toBeLessThan(10_000);
    const inPlace = await runNode(dir, ['node_modules/@webmon/relay/examples/relay.mjs'], {}, 20_000);
    expect(inPlace.stdout).toBe(run.stdout);
  });

  it('@webmon/recorder: record.mjs records a relay to MCAP, reads it back through the index and exits by itself', async () => {
    const { dir, example, readme } = consumer('@webmon/recorder');
    const run = await runNode(dir, [example], {}, 30_000);
    expect(run.signal, 'killed: the example did not exit by itself').toBeNull();
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(printedBlock(readme));
    expect(run.stdout).toContain('camera.frame/image: 1 × json, schema foxglove.RawImage (jsonschema)');
  });

  it('@webmon/shm-reader: npm builds the addon at install; read-python.mjs reads share.py zero-copy', async () => {
    const { dir, example } = consumer('@webmon/shm-reader');
    const installed = join(dir, 'node_modules', '@webmon', 'shm-reader');
    expect(await addonStatus(dir)).toEqual({
      loaded: true,
      path: join(installed, 'native', 'build', 'Release', 'webmon_shm.node'),
      reason: null,
      buildCommand: null,
      missing: [],
    });

    // The Python side as the README says to start it: the shipped share.py, which prints its port.
    const share = spawn(python.path, [join(installed, 'examples', 'share.py')], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    try {
      const port = await new Promise<string>((resolve, reject) => {
        let stderr = '';
        share.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        share.on('exit', (code) => reject(new Error(`share.py exited (${code}): ${stderr}`)));
        createInterface({ input: share.stdout }).once('line', resolve);
      });
      expect(port).toMatch(/^\d+$/);
      const run = await runNode(dir, [example, port]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const [state, event, image] = run.stdout.trim().split('\n');
      expect(JSON.parse(state!.replace(/^state /, ''))).toEqual({
        layers: { '140234': { visible: true, opacity: 0.8 } },
        image: { name: expect.stringMatching(/^psm_\w+$/), dtype: '<f4', shape: [2, 3] },
      });
      expect(event).toBe('event {"frame_time":{"delta_ms":16.7}}');
      expect(image).toBe('image 2x3 0,0.5,1,1.5,2,2.5 zero-copy view');
    } finally {
      share.stdin.end(); // share.py serves until its stdin closes, then shuts its manager down
      await finished(share, 10_000);
    }
  });

  it('@webmon/shm-reader: without a compiler the install succeeds, and the status says what is missing and how to build', async () => {
    // A PATH with node and npm only (no cc, make or python), and CC naming nothing.
    const bin = join(scratch, 'bin-without-cc');
    mkdirSync(bin, { recursive: true });
    const npmCli = realpathSync(spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim());
    symlinkSync(process.execPath, join(bin, 'node'));
    symlinkSync(npmCli, join(bin, 'npm'));
    symlinkSync('/bin/sh', join(bin, 'sh'));
    // npm is found on this PATH too (child_process looks a command up in the PATH it is given).
    const bare = { PATH: bin, CC: '/nonexistent/cc' };
    const { dir } = consumer('@webmon/shm-reader', bare);
    const installed = join(dir, 'node_modules', '@webmon', 'shm-reader');
    expect(existsSync(join(installed, 'native', 'build', 'Release', 'webmon_shm.node'))).toBe(false);
    const lastBuild = readFileSync(join(installed, 'native', 'build', 'last-build.txt'), 'utf8');
    expect(lastBuild).toContain('missing a C compiler (CC=/nonexistent/cc not found)');

    const status = await addonStatus(dir, bare);
    const buildCommand = `node ${join(installed, 'native', 'build.mjs')}`;
    expect(status).toMatchObject({ loaded: false, path: null, buildCommand });
    expect(status['missing']).toEqual(expect.arrayContaining([expect.stringMatching(/^a C compiler \(CC=\/nonexistent\/cc not found\)/), expect.stringMatching(/^make /)]));
    const reason = String(status['reason']);
    expect(reason).toContain(`then build it with: ${buildCommand} `);
    expect(reason).toContain('Last build: not built, missing a C compiler');
    const docs = /See (\S+) /.exec(reason)?.[1];
    expect(docs).toBe(join(installed, 'docs', 'shm.md')); // shipped, so the hint points at a file the user has
    expect(existsSync(docs!)).toBe(true);

    // The hint works: its command, run where a compiler is, builds the addon and the next process loads it.
    const build = await runNode(dir, buildCommand.split(' ').slice(1), {}, 180_000);
    expect(build.stdout).toContain('native addon: built');
    expect(await addonStatus(dir)).toMatchObject({ loaded: true, reason: null });
  });

  it('@webmon/napari: monitor.mjs follows a napari-style manager, sends a command and exits when napari quits', async () => {
    const { dir, example } = consumer('@webmon/napari');
    const fixture = await NapariFixture.start(python.path);
    try {
      await fixture.command('set_poll', {
        value: {
          layers: {
            '140245342': {
              tile_state: { seen: [[0, 0], [0, 1], [1, 1]], corners: [[0, 0], [512, 512]] },
              tile_config: { base_shape: [4096, 4096], image_shape: [1024, 1024], shape_in_tiles: [4, 4], tile_size: 256, level_index: 2 },
            },
          },
        },
      });
      await fixture.command('put_raw', { value: { frame_time: { time: 1.7e9, delta_ms: 16.5 } } });
      await fixture.command('put_raw', { value: { my_event: [1, 2] } });

      const child = spawn(process.execPath, [example], {
        cwd: dir,
        env: plainNpmEnv({ NAPARI_MON_CLIENT: fixture.info.NAPARI_MON_CLIENT }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const exited = finished(child, 30_000);
      const lines: string[] = [];
      await new Promise<void>((resolve, reject) => {
        const wanted = ['layer 140245342: 3 tiles seen at level 2', 'frame 16.5 ms', 'message my_event [1,2]'];
        createInterface({ input: child.stdout! }).on('line', (line) => {
          lines.push(line);
          if (wanted.every((w) => lines.includes(w))) resolve();
        });
        child.on('exit', () => reject(new Error(`monitor.mjs exited early: ${lines.join('\n')}`)));
      });
      // The command reached napari's side: `{show_grid: True}` on client_messages.
      expect((await fixture.command('drain_client', { count: 1, timeout: 5 }))['items']).toEqual([{ show_grid: true }]);

      await fixture.command('set_shutdown');
      const run = await exited;
      expect(run.signal, 'killed: the example did not exit when napari quit').toBeNull();
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('');
      expect(run.stdout.trim().split('\n').at(-1)).toBe('napari gone (napari)');
    } finally {
      await fixture.stop();
    }

    // The main entry's example (runtime-neutral checks) runs too.
    copyFileSync(join(dir, 'node_modules', '@webmon', 'napari', 'examples', 'validate.mjs'), join(dir, 'validate.mjs'));
    const validate = await runNode(dir, ['validate.mjs']);
    expect(validate.stderr).toBe('');
    expect(validate.stdout.trim().split('\n')).toEqual([
      '140234 2',
      'frame_time 16.7',
      'unknown my_event',
      'PROTOCOL_INVALID_MESSAGE layers.140234.tile_state.seen',
      'napari.layers napari.data.my_plugin napari.message.my_event',
      '5 payload checks, by schema id, for a relay topic and the relay client',
    ]);
  });

  it('every other code block of these READMEs type-checks against the installed packages, and the types are precise', () => {
    const dir = join(scratch, 'typecheck');
    installTarballs(packed, dir, [...NODE_PACKAGES], { from_registry: ['@types/node@^20.19'] });
    const files: string[] = [];
    for (const name of NODE_PACKAGES) {
      const readme = readFileSync(join(shipped(name), 'README.md'), 'utf8');
      codeBlocks(readme)
        .filter((b) => ['ts', 'js'].includes(b.lang) && blockFile(b) === null)
        .forEach((block, index) => {
          const file = `${basename(name)}-${index + 1}.ts`;
          writeFileSync(join(dir, file), block.text);
          files.push(file);
        });
    }
    expect(files.length).toBeGreaterThanOrEqual(4); // protocol 1, relay 2 (server, client), napari 1 (the bridge)
    // One deliberate error proves the types are precise, not `any` (moved from protocol's old package test).
    writeFileSync(
      join(dir, 'precise.ts'),
      "import { parseServerMessage, type ServerMessage, type TopicInfo } from '@webmon/protocol';\n" +
        "const message: ServerMessage = parseServerMessage('{}');\n" +
        "const state: TopicInfo[] | undefined = message.type === 'hello' ? message.topics : undefined;\n" +
        'const wrong: number = message.type; // must be a type error\n' +
        'export { state, wrong };\n',
    );
    files.push('precise.ts');
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: false, lib: ['ES2022', 'DOM'], types: ['node'] },
        files,
      }),
    );
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const result = spawnSync(process.execPath, [tsc, '-p', dir], { cwd: dir, encoding: 'utf8' });
    const errors = result.stdout.split('\n').filter((line) => line.includes('error TS'));
    // Exactly the deliberate one (any other names the README block and line that is wrong).
    expect(errors).toEqual([expect.stringMatching(/^precise\.ts\(4,7\): error TS2322: .*not assignable to type 'number'/)]);
  });
});
