/**
 * Several sources in one webmon: two simulated napari windows (real CPython managers) attached with
 * `--connect`, each under its own topic prefix. Commands reach only the source that owns the topic.
 */
import { createRelayClient, type RelayClient, type WebSocketConstructor } from '@webmon/relay/client';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PYTHON, SIMULATOR, eventually, getJson, startProcess, startWebmon, type Proc } from './helpers.js';

let left: Proc;
let right: Proc;
let webmon: Proc;
let url: string;
let client: RelayClient;

async function startSimulator(): Promise<{ proc: Proc; port: number }> {
  const proc = startProcess(PYTHON, [SIMULATOR, '--no-clients', '--watch-stdin', '--napari', '0.4', '--image-hz', '5', '--image-size', '64']);
  const port = Number((await proc.waitFor(/napari simulator: manager port (\d+)/, 60_000))[1]);
  return { proc, port };
}

beforeAll(async () => {
  const [a, b] = await Promise.all([startSimulator(), startSimulator()]);
  left = a.proc;
  right = b.proc;
  ({ proc: webmon, url } = await startWebmon(['--port', '0', '--connect', `127.0.0.1:${a.port}`, '--connect', `right=127.0.0.1:${b.port}`]));
  client = createRelayClient({ url: `${url.replace(/^http/, 'ws')}ws`, WebSocket: WebSocket as unknown as WebSocketConstructor });
}, 240_000);

afterAll(async () => {
  client?.close();
  await webmon?.stop();
  await left?.stop();
  await right?.stop();
});

describe('two napari sources in one webmon', () => {
  it("delivers both sources' topics, each under its prefix", async () => {
    const counts = new Map<string, number>();
    for (const topic of ['napari.frame_time', 'right.frame_time', 'napari.layers', 'right.layers', 'napari.image', 'right.image']) {
      client.subscribe(topic, () => counts.set(topic, (counts.get(topic) ?? 0) + 1));
    }
    await eventually(() => ([...counts.values()].length === 6 && [...counts.values()].every((count) => count >= 2) ? true : undefined), 60_000, 'data on every topic of both sources');
    const status = (await getJson(`${url}api/status`)) as { sources: { prefix: string; state: string }[] };
    expect(status.sources.map((source) => [source.prefix, source.state])).toEqual([
      ['napari', 'connected'],
      ['right', 'connected'],
    ]);
  });

  it('sends a command only to the source that owns the addressed topic', async () => {
    await eventually(() => (client.state === 'open' ? true : undefined), 30_000, 'client open');
    await client.command('show_grid', false, { topic: 'right.layers' });
    await right.waitFor(/show_grid False/, 30_000);
    await client.command('show_grid', true, { topic: 'napari.layers' });
    await left.waitFor(/show_grid True/, 30_000);
    expect(left.output()).not.toMatch(/show_grid False/);
    expect(right.output()).not.toMatch(/show_grid True/);
    // With two sources, a command that names no topic has no single owner.
    await expect(client.command('show_grid', true)).rejects.toMatchObject({ code: 'NO_PUBLISHER', message: expect.stringContaining('name the topic') });
  });
});
