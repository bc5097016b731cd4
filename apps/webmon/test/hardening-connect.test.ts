/**
 * The edges of connecting and of the attach hand-over: a manager that shakes hands and then says
 * nothing, Ctrl-C while webmon is still connecting, and an attach request under a foreign Host name.
 * Real processes: a stdlib Python manager stand-in, the real command.
 */
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { CLI, PYTHON, startProcess, startWebmon, stopAfterEach, type Proc } from './helpers.js';

const track = stopAfterEach();

/**
 * napari's authkey, the multiprocessing handshake done by `Listener.accept()`, then silence: what a
 * frozen napari (or another program on that port) looks like to webmon.
 */
const SILENT_MANAGER = String.raw`
from multiprocessing.connection import Listener
listener = Listener(('127.0.0.1', 0), authkey=b'napari')
print('silent manager on %d' % listener.address[1], flush=True)
held = []
while True:
    held.append(listener.accept())
    print('handshake done', flush=True)
`;

async function silentManager(): Promise<{ proc: Proc; port: number }> {
  const proc = track(startProcess(PYTHON, ['-c', SILENT_MANAGER]));
  const port = Number((await proc.waitFor(/silent manager on (\d+)/))[1]);
  return { proc, port };
}

describe('connecting', () => {
  it('says within seconds that napari is not answering when its manager goes silent after the handshake', async () => {
    const { port } = await silentManager();
    const started = Date.now();
    const proc = track(startProcess(process.execPath, [CLI, '--port', '0', '--connect', `127.0.0.1:${port}`]));
    await proc.waitFor(/napari is not answering/, 15_000);
    const saidMs = Date.now() - started;
    expect(saidMs, proc.output()).toBeLessThan(10_000);
    expect(await proc.exited(10_000), proc.output()).toBe(1);
    expect(proc.stderr()).toMatch(new RegExp(`\\[WEBMON_NAPARI_UNREACHABLE\\]: cannot reach napari's manager at 127\\.0\\.0\\.1:${port}: napari is not answering`));
    console.info(`"napari is not answering" after ${saidMs} ms`);
  });

  it('stops cleanly (status 0, not 130) on Ctrl-C while still connecting', async () => {
    const { proc: manager, port } = await silentManager();
    const proc = track(startProcess(process.execPath, [CLI, '--port', '0', '--connect', `127.0.0.1:${port}`]));
    await manager.waitFor(/handshake done/, 15_000);
    proc.child.kill('SIGINT');
    expect(await proc.exited(10_000), proc.output()).toBe(0);
    expect(proc.stderr()).toMatch(/SIGINT while connecting to napari: stopping/);
    expect(proc.stderr()).toMatch(/webmon: stopped/);
  });
});

describe('POST /api/attach', () => {
  it('answers a foreign Host name with 403 before looking at the request', async () => {
    // A --stay webmon without a napari: exactly the one that would accept a hand-over.
    const { proc, url } = await startWebmon(['--port', '0', '--connect', '127.0.0.1:9', '--stay']);
    track(proc);
    const target = new URL('api/attach', url);
    const body = JSON.stringify({ port: 9 });
    // Everything a real hand-over sends, only under a DNS-rebinding name.
    const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(target, {
        method: 'POST',
        headers: { host: `evil.example:${target.port}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-webmon-attach': '1' },
      });
      req.on('response', (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.end(body);
    });
    expect(answer).toEqual({ status: 403, text: 'forbidden host\n' });
    expect(proc.output()).not.toMatch(/handed over/);
  });
});
