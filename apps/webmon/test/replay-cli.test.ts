/**
 * `webmon replay` as a user meets it on the command line: real processes, real files. A bad command line is
 * a usage error (status 2, `WEBMON_BAD_ARGUMENT`, before anything starts); a file that cannot be replayed —
 * missing, not MCAP, from a newer webmon — is `WEBMON_REPLAY_FAILED` (status 1) naming the recorder's code.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McapWriter } from '@mcap/core';
import { FORMAT_METADATA_NAME, FILE_FORMAT_VERSION, openFileWritable } from '@webmon/recorder';
import { CLI, startProcess, stopAfterEach } from './helpers.js';

const track = stopAfterEach();
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'webmon-replay-cli-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs `webmon …args` to its end: its exit status and stderr. */
async function webmon(args: string[]): Promise<{ status: number | string; stderr: string; stdout: string }> {
  const proc = track(startProcess(process.execPath, [CLI, ...args]));
  const status = await proc.exited(60_000);
  return { status, stderr: proc.stderr(), stdout: proc.stdout() };
}

/** A valid MCAP file with webmon's format record saying `format` and no messages. */
async function writeRecording(path: string, format: number): Promise<void> {
  const writable = await openFileWritable(path);
  const writer = new McapWriter({ writable });
  await writer.start({ profile: '', library: 'replay-cli.test' });
  await writer.addMetadata({ name: FORMAT_METADATA_NAME, metadata: new Map([['format', String(format)]]) });
  await writer.end();
  await writable.close?.();
}

describe('webmon replay on the command line', () => {
  it('--help shows the replay command', async () => {
    const { status, stdout } = await webmon(['--help']);
    expect(status).toBe(0);
    expect(stdout).toMatch(/^ {7}webmon replay <file\.mcap> \[options\] +serve the pages from a recording$/m);
    expect(stdout).toMatch(/webmon replay: serves the same pages from an MCAP recording/);
    expect(stdout).toMatch(/Commands from pages are refused \(NOT_LIVE\)/);
    expect(stdout).toMatch(/It waits, paused at the start, until the first page opens, then plays at x1\./);
  });

  it('a bad command line is a usage error: no file, an extra argument, --record with it', async () => {
    const cases: [string[], RegExp][] = [
      [['replay'], /webmon replay needs a file: webmon replay <file\.mcap>/],
      [['replay', 'a.mcap', 'b.mcap'], /unexpected argument "b\.mcap"/],
      [['replay', 'a.mcap', '--record', 'b.mcap'], /webmon replay <file> takes no --record/],
      [['replay', 'a.mcap', '--connect', '41263'], /webmon replay <file> serves a recording: it takes no --connect or program/],
    ];
    for (const [args, message] of cases) {
      const { status, stderr } = await webmon([...args, '--port', '0']);
      expect(status, args.join(' ')).toBe(2);
      expect(stderr, args.join(' ')).toMatch(/webmon error \[WEBMON_BAD_ARGUMENT\]/);
      expect(stderr, args.join(' ')).toMatch(message);
      expect(stderr).toContain("Run 'webmon --help' for the options and examples.");
    }
  });

  it('a file that cannot be replayed: missing, not MCAP, from a newer webmon → WEBMON_REPLAY_FAILED, status 1', async () => {
    const notMcap = join(dir, 'notes.mcap');
    writeFileSync(notMcap, 'these are not the bytes of an MCAP file\n'.repeat(20));
    const newer = join(dir, 'newer.mcap');
    await writeRecording(newer, FILE_FORMAT_VERSION + 1);
    const cases: [string, RegExp][] = [
      [join(dir, 'missing.mcap'), /cannot replay .*missing\.mcap: cannot open .*\(RECORDER_OPEN_FAILED\)/],
      [notMcap, /cannot replay .*notes\.mcap: .*\(RECORDER_NOT_MCAP\)/],
      [newer, /cannot replay .*newer\.mcap: .*\(RECORDER_NEWER_FORMAT\)/],
    ];
    for (const [file, message] of cases) {
      const { status, stderr, stdout } = await webmon(['replay', file, '--port', '0']);
      expect(status, file).toBe(1);
      expect(stderr, file).toMatch(/webmon error \[WEBMON_REPLAY_FAILED\]/);
      expect(stderr, file).toMatch(message);
      expect(stdout, file).not.toMatch(/serving/);
    }
  });

  it('the control: a file of the current format with no messages is served', async () => {
    const empty = join(dir, 'empty.mcap');
    await writeRecording(empty, FILE_FORMAT_VERSION);
    const proc = track(startProcess(process.execPath, [CLI, 'replay', empty, '--port', '0']));
    await proc.waitFor(/webmon: serving http:\/\/\S+ \(replay of .*empty\.mcap: 0 topics/, 60_000);
    await proc.stop();
  });
});
