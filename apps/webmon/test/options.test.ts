import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WebmonError } from '../src/errors.js';
import { parseCommand, parseHostPort, userConfigPath, type WebmonOptions } from '../src/options.js';

const dir = mkdtempSync(join(tmpdir(), 'webmon-options-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A config directory of our own: the machine's user may have a webmon config.
const NO_USER_CONFIG = { XDG_CONFIG_HOME: join(dir, 'xdg-empty'), HOME: join(dir, 'home-empty') };

function run(argv: string[], env: NodeJS.ProcessEnv = {}, cwd = dir): WebmonOptions {
  const command = parseCommand(argv, { ...NO_USER_CONFIG, ...env }, cwd);
  if (command.kind !== 'run') throw new Error(`expected run, got ${command.kind}`);
  return command.options;
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof WebmonError) return error.code;
    throw error;
  }
  throw new Error('did not throw');
}

describe('parseCommand', () => {
  it('--record and webmon record resolve the file against the working directory; --flight-recorder-bytes takes K/M/G', () => {
    expect(run(['--record', 'run.mcap'])).toMatchObject({ record: join(dir, 'run.mcap'), headless: false, flightRecorderBytes: 256 * 2 ** 20 });
    expect(run(['record', 'out/run.mcap', '--connect', '41263'])).toMatchObject({ record: join(dir, 'out', 'run.mcap'), headless: true, source: { kind: 'connect' } });
    expect(run([]).record).toBeUndefined();
    expect(run(['--flight-recorder-bytes', '64M']).flightRecorderBytes).toBe(64 * 2 ** 20);
    expect(run(['--flight-recorder-bytes', '1G']).flightRecorderBytes).toBe(2 ** 30);
    expect(run(['--flight-recorder-bytes', '0']).flightRecorderBytes).toBe(0);
    expect(run(['--flight-recorder-bytes', '512KiB']).flightRecorderBytes).toBe(512 * 1024);
    expect(run([]).recordRawImageHz).toBe(5);
    expect(run(['--record', 'run.mcap', '--record-raw-image-hz', '0']).recordRawImageHz).toBe(0);
    expect(run(['--record', 'run.mcap', '--record-raw-image-hz', '12.5']).recordRawImageHz).toBe(12.5);
    for (const argv of [['record'], ['record', 'a', 'b'], ['record', 'a', '--record', 'b'], ['--record', ' '], ['--flight-recorder-bytes', '-1'], ['--flight-recorder-bytes', '65G'], ['play'], ['--record-raw-image-hz', '-1'], ['--record-raw-image-hz', 'many']]) {
      expect(codeOf(() => run(argv)), argv.join(' ')).toBe('WEBMON_BAD_ARGUMENT');
    }
  });

  it('defaults to port 5000 on 127.0.0.1 and the simulator when napari is absent', () => {
    const options = run([]);
    expect(options).toMatchObject({ port: 5000, host: '127.0.0.1', stay: false, open: false, pages: [], logLevel: 'info', source: { kind: 'simulator' } });
  });

  it('reads NAPARI_MON_CLIENT as napari does, and --connect over it', () => {
    expect(run([], { NAPARI_MON_CLIENT: 'eyJzZXJ2ZXJfcG9ydCI6IDEyMzR9' }).source).toEqual({ kind: 'napari-env', clientConfig: 'eyJzZXJ2ZXJfcG9ydCI6IDEyMzR9', extra: [] });
    expect(run(['--connect', 'localhost:4321']).source).toEqual({ kind: 'connect', targets: [{ prefix: 'napari', host: 'localhost', port: 4321 }] });
    // Launched by napari, a --connect adds a second source under the next prefix.
    expect(run(['--connect', 'localhost:4321'], { NAPARI_MON_CLIENT: 'x' }).source).toEqual({ kind: 'napari-env', clientConfig: 'x', extra: [{ prefix: 'napari2', host: 'localhost', port: 4321 }] });
  });

  it('takes several --connect, each under its own topic prefix', () => {
    expect(run(['--connect', '7001', '--connect', 'left=127.0.0.1:7002', '--connect', '[::1]:7003']).source).toEqual({
      kind: 'connect',
      targets: [
        { prefix: 'napari', host: '127.0.0.1', port: 7001 },
        { prefix: 'left', host: '127.0.0.1', port: 7002 },
        { prefix: 'napari2', host: '::1', port: 7003 },
      ],
    });
    expect(() => run(['--connect', 'a=1', '--connect', 'a=2'])).toThrow(expect.objectContaining({ code: 'WEBMON_BAD_ARGUMENT' }));
    expect(() => run(['--connect', '9x=1'])).toThrow(expect.objectContaining({ code: 'WEBMON_BAD_ARGUMENT' }));
  });

  it('merges the config file with the command line (command line wins, pages add up)', () => {
    const config = join(dir, 'custom.json');
    writeFileSync(config, JSON.stringify({ port: 6000, pages: ['@a/page'], stay: true, logLevel: 'debug' }));
    const options = run(['--config', config, '--port', '0', '--page', '@b/page']);
    expect(options).toMatchObject({ port: 0, stay: true, logLevel: 'debug', pages: ['@a/page', '@b/page'], configPath: config });
  });

  it('reads the user config directory, never ./webmon.config.json', () => {
    const project = mkdtempSync(join(dir, 'project-'));
    writeFileSync(join(project, 'webmon.config.json'), JSON.stringify({ pages: ['@webmon/page-stats'], host: '0.0.0.0' }));
    expect(run([], {}, project)).toMatchObject({ pages: [], host: '127.0.0.1', configPath: undefined });
    const xdg = mkdtempSync(join(dir, 'xdg-'));
    mkdirSync(join(xdg, 'webmon'));
    writeFileSync(join(xdg, 'webmon', 'config.json'), JSON.stringify({ pages: ['@webmon/page-stats'] }));
    const options = run([], { XDG_CONFIG_HOME: xdg }, project);
    expect(options).toMatchObject({ pages: ['@webmon/page-stats'], configPath: join(xdg, 'webmon', 'config.json') });
    // Pages resolve from the config's directory, then the working directory.
    expect(options.pageSearchPaths).toEqual([join(xdg, 'webmon'), project]);
  });

  it('finds the user config where each platform keeps it', () => {
    expect(userConfigPath({ XDG_CONFIG_HOME: '/x', HOME: '/h' }, 'linux')).toBe('/x/webmon/config.json');
    expect(userConfigPath({ HOME: '/h' }, 'linux')).toBe('/h/.config/webmon/config.json');
    // A relative XDG_CONFIG_HOME would be the working directory again: ignored, as the spec says.
    expect(userConfigPath({ XDG_CONFIG_HOME: '.', HOME: '/h' }, 'linux')).toBe('/h/.config/webmon/config.json');
    expect(userConfigPath({ HOME: '/Users/u' }, 'darwin')).toBe('/Users/u/Library/Application Support/webmon/config.json');
    expect(userConfigPath({ APPDATA: '/appdata' }, 'win32')).toBe(join('/appdata', 'webmon', 'config.json'));
    expect(userConfigPath({}, 'win32')).toBeUndefined();
  });

  it('keeps track of what the config set beyond this process, unless the command line overrode it', () => {
    const config = join(dir, 'reach.json');
    writeFileSync(config, JSON.stringify({ host: '0.0.0.0', python: '/opt/py' }));
    expect(run(['-c', config]).configSettings).toEqual({ host: '0.0.0.0', python: '/opt/py' });
    expect(run(['-c', config, '--host', '127.0.0.1', '--python', 'python3']).configSettings).toEqual({ host: undefined, python: undefined });
  });

  it.each([
    [['--port', '70000'], 'WEBMON_BAD_ARGUMENT'],
    [['--port', 'abc'], 'WEBMON_BAD_ARGUMENT'],
    [['--prot', '1'], 'WEBMON_BAD_ARGUMENT'],
    [['extra'], 'WEBMON_BAD_ARGUMENT'],
    [['--log-level', 'loud'], 'WEBMON_BAD_ARGUMENT'],
    [['--connect', 'nohost'], 'WEBMON_BAD_ARGUMENT'],
    [['--config', '/nonexistent/webmon.json'], 'WEBMON_BAD_CONFIG'],
  ])('rejects %j with %s', (argv, code) => {
    expect(codeOf(() => parseCommand(argv, {}, dir))).toBe(code);
  });

  it('names the file and key of a bad config', () => {
    const config = join(dir, 'bad.json');
    writeFileSync(config, JSON.stringify({ pages: 'not-a-list' }));
    expect(() => parseCommand(['-c', config], {}, dir)).toThrow(/bad\.json: "pages" must be an array/);
    writeFileSync(config, JSON.stringify({ colour: 'red' }));
    expect(() => parseCommand(['-c', config], {}, dir)).toThrow(/unknown key "colour"/);
    writeFileSync(config, '{ not json');
    expect(codeOf(() => parseCommand(['-c', config], {}, dir))).toBe('WEBMON_BAD_CONFIG');
  });

  it('answers --help and --version before anything else', () => {
    expect(parseCommand(['--help', '--port', 'bad'], {}, dir).kind).toBe('help');
    expect(parseCommand(['-v'], {}, dir).kind).toBe('version');
  });
});

describe('webmon run and webmon python-path', () => {
  it('takes options before -- and the program after it, launched by napari or not', () => {
    const options = run(['run', '-p', '0', '--connect', 'extra=41263', '--', 'python3', 'train.py', '--port', '7'], { NAPARI_MON_CLIENT: 'eyJzZXJ2ZXJfcG9ydCI6IDF9' });
    expect(options.port).toBe(0);
    expect(options.source).toEqual({ kind: 'run', command: ['python3', 'train.py', '--port', '7'], targets: [{ prefix: 'extra', host: '127.0.0.1', port: 41263 }] });
    expect(parseCommand(['run', '--help'], NO_USER_CONFIG, dir).kind).toBe('help');
  });

  it('refuses a run without a program, and arguments to python-path, as usage errors', () => {
    expect(codeOf(() => run(['run', 'python3', 'x.py']))).toBe('WEBMON_BAD_ARGUMENT');
    expect(codeOf(() => run(['run', '--']))).toBe('WEBMON_BAD_ARGUMENT');
    expect(codeOf(() => run(['run', '--prot', '1', '--', 'x']))).toBe('WEBMON_BAD_ARGUMENT');
    expect(parseCommand(['python-path'], NO_USER_CONFIG, dir).kind).toBe('python-path');
    expect(codeOf(() => parseCommand(['python-path', 'x'], NO_USER_CONFIG, dir))).toBe('WEBMON_BAD_ARGUMENT');
  });

  it('takes the launching program\'s prefix and authkey from its environment', () => {
    const options = run(['--connect', '41263'], { NAPARI_MON_CLIENT: 'eyJzZXJ2ZXJfcG9ydCI6IDF9', WEBMON_SOURCE_NAME: 'train', WEBMON_AUTHKEY: 'k3y' });
    expect(options.source).toMatchObject({ kind: 'napari-env', prefix: 'train', extra: [{ prefix: 'napari' }] });
    expect(options.authkey).toBe('k3y');
    expect(run(['--authkey', 'cli'], { WEBMON_AUTHKEY: 'env' }).authkey).toBe('cli');
    expect(codeOf(() => run([], { NAPARI_MON_CLIENT: 'eyJzZXJ2ZXJfcG9ydCI6IDF9', WEBMON_SOURCE_NAME: '1bad' }))).toBe('WEBMON_BAD_CONFIG');
  });
});

describe('parseHostPort', () => {
  it('accepts host:port, [v6]:port and a bare port', () => {
    expect(parseHostPort('example.org:5001')).toEqual({ host: 'example.org', port: 5001 });
    expect(parseHostPort('[::1]:5001')).toEqual({ host: '::1', port: 5001 });
    expect(parseHostPort('5001')).toEqual({ host: '127.0.0.1', port: 5001 });
    expect(() => parseHostPort('host:0')).toThrow(/must not be 0/);
  });
});
