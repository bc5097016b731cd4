/**
 * The bridge against a real napari-style manager (CPython, `@webmon/test-python`'s fixture), a real
 * relay on port 0 and a real relay client over WebSocket.
 */
import { dirname } from 'node:path';
import type { JsonValue } from '@webmon/protocol';
import { ringWriterPythonPath } from '@webmon/shm-reader';
import { NapariFixture, findInterpreters } from '@webmon/test-python';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NapariInfo } from '../../src/index.js';
import { createNapariBridge, type NapariBridge } from '../../src/node.js';
import { eventually, relayPair, startChild, type Child, type RelayPair } from './helpers.js';

const PYTHON = findInterpreters().at(-1)?.path ?? 'python3';
const PYTHONPATH = dirname(ringWriterPythonPath());

let fixture: NapariFixture;
let pair: RelayPair;
const bridges: NapariBridge[] = [];
const children: Child[] = [];

beforeEach(async () => {
  fixture = await NapariFixture.start(PYTHON, { FIXTURE_SHARED_LIST: '0' });
  pair = await relayPair();
});

afterEach(async () => {
  for (const bridge of bridges.splice(0)) await bridge.close();
  await pair.close();
  await fixture.stop();
  for (const child of children.splice(0)) await child.stop();
});

function bridge(prefix = 'napari'): NapariBridge {
  const created = createNapariBridge({ relay: pair.relay, address: { host: '127.0.0.1', port: fixture.port }, prefix, pollIntervalMs: 10 });
  bridges.push(created);
  return created;
}

function collect(topic: string): unknown[] {
  const values: unknown[] = [];
  pair.client.subscribe(topic, (event) => values.push(event.kind === 'data' ? event.payload : event.frame));
  return values;
}

const octreePoll = {
  layers: {
    '7': {
      tile_state: { seen: [[0, 0], [0, 1]], corners: [[0, 0], [512, 512]] },
      tile_config: { base_shape: [1024, 1024], image_shape: [1024, 1024], shape_in_tiles: [4, 4], tile_size: 256, level_index: 0 },
    },
  },
};

describe('napari bridge', () => {
  it('gives its JSON latest topics latestReplayMs of history: a page that subscribes late gets the window (protocol 1.5)', async () => {
    const napari = createNapariBridge({ relay: pair.relay, address: { host: '127.0.0.1', port: fixture.port }, pollIntervalMs: 10, latestReplayMs: 60_000 });
    bridges.push(napari);
    const published: unknown[] = [];
    pair.relay.tap({ json: (info, _seq, _time, text) => void (info.name === 'napari.data.my_plugin' && published.push(JSON.parse(text))) });
    await napari.start();
    for (const count of [1, 2, 3]) {
      await fixture.command('set_data', { value: { my_plugin: { count } } });
      await eventually(() => published.length === count, 5_000, `value ${count} published`);
    }
    const byName = (name: string) => pair.relay.topics.find((topic) => topic.name === name);
    expect(byName('napari.data.my_plugin')).toMatchObject({ mode: 'latest', replayMs: 60_000 });
    expect(byName('napari.layers')).not.toHaveProperty('replayMs'); // 60 Hz tile states: only the newest
    expect(byName('napari.info')).toMatchObject({ mode: 'latest', replayMs: 60_000 });
    expect(byName('napari.frame_time')).toMatchObject({ mode: 'stream', replayMs: 10_000 });
    const late = collect('napari.data.my_plugin');
    await eventually(() => late.length >= 3, 5_000, 'the snapshot of the window');
    expect(late.slice(0, 3)).toEqual([{ count: 1 }, { count: 2 }, { count: 3 }]);
  });

  it('passes every napari_data key and message kind through, as topics that appear while it runs', async () => {
    const napari = bridge();
    await napari.start();
    const plugin = collect('napari.data.my_plugin');
    const events = collect('napari.message.my_event');
    const frameTimes = collect('napari.frame_time');
    await fixture.command('put_messages', { count: 3 });
    await eventually(() => frameTimes.length >= 3, 10_000, 'frame_time');
    expect(pair.relay.hasTopic('napari.data.my_plugin')).toBe(false);

    // A key and a message kind nobody has seen before: new topics, within a second.
    const added = Date.now();
    await fixture.command('set_data', { value: { my_plugin: { count: 1, stats: { mean: 0.5 } } } });
    await fixture.command('put_raw', { value: { my_event: { count: 1 } } });
    await eventually(() => plugin.length >= 1 && events.length >= 1, 5_000, 'the new topics');
    expect(Date.now() - added).toBeLessThan(1_000);
    expect(plugin[0]).toEqual({ count: 1, stats: { mean: 0.5 } });
    expect(events[0]).toEqual({ count: 1 });
    expect(pair.client.topics.find((topic) => topic.name === 'napari.data.my_plugin')).toMatchObject({ mode: 'latest' });
    expect(pair.client.topics.find((topic) => topic.name === 'napari.message.my_event')).toMatchObject({ mode: 'stream' });

    await fixture.command('set_data', { value: { my_plugin: { count: 2, stats: { mean: 0.75 } } } });
    await eventually(() => plugin.length >= 2, 5_000, 'the changed value');
    expect(plugin[1]).toEqual({ count: 2, stats: { mean: 0.75 } });

    // A removed key retires its topic.
    await fixture.command('del_data', { key: 'my_plugin' });
    await eventually(() => !pair.client.topics.some((topic) => topic.name === 'napari.data.my_plugin'), 5_000, 'the retirement');
    expect(napari.counters).toMatchObject({ frameTimes: 3, otherMessages: 1 });

    // Closing retires every topic it declared; a closed bridge does not start again.
    await napari.close();
    expect(pair.relay.topics.filter((topic) => topic.name.startsWith('napari.'))).toEqual([]);
    await expect(napari.start()).rejects.toMatchObject({ code: 'NAPARI_DISPOSED' });
  });

  it('says what this napari can do, and runs only that: show_grid while an octree layer is present, nothing else', async () => {
    const napari = bridge();
    pair.relay.onCommand((name, args) => napari.command(name, args));
    await napari.start();
    const infos = collect('napari.info') as NapariInfo[];
    await fixture.command('set_poll', { value: { layers: {} } });
    await eventually(() => infos.some((info) => /no tile data/.test(info.summary)), 10_000, 'the no-octree info');
    expect(infos.at(-1)).toMatchObject({ octree: false, commands: [] });

    // napari ≥ 0.5 (or no octree layer): nothing is sent to client_messages.
    await expect(pair.client.command('show_grid', true)).rejects.toMatchObject({ code: 'UNKNOWN_COMMAND', message: expect.stringContaining('octree') });
    await expect(napari.command('reset_view', null)).rejects.toMatchObject({ code: 'UNKNOWN_COMMAND' });
    expect(await fixture.command('drain_client')).toMatchObject({ items: [] });

    await fixture.command('set_poll', { value: octreePoll });
    await eventually(() => infos.at(-1)?.octree === true, 10_000, 'the octree info');
    expect(infos.at(-1)).toMatchObject({ octree: true, commands: ['show_grid'] });
    await expect(pair.client.command('show_grid', 'yes' as JsonValue)).rejects.toMatchObject({ code: 'BAD_COMMAND_ARGS' });
    await expect(pair.client.command('show_grid', false)).resolves.toBeUndefined();
    // A dunder never leaves the page: the client refuses to encode it.
    await expect(pair.client.command('__init__', null)).rejects.toMatchObject({ code: expect.stringMatching(/INVALID_MESSAGE$/) });
    const items = (await fixture.command('drain_client', { count: 1, timeout: 2 }))['items'];
    expect(items).toEqual([{ show_grid: false }]);
    expect(napari.counters).toMatchObject({ commands: 1, refusedCommands: 2 });
  });

  it("publishes the rings napari names in napari_data['webmon_rings'] over the same connection", async () => {
    const writer = startChild(PYTHON, ['-c', ['import sys, time, array', 'from webmon_ring import RingWriter', 'ring = RingWriter(slots=4, max_payload=1 << 16)', 'print("ring", ring.name, flush=True)', 'while True:', '    ring.publish(memoryview(array.array("f", [1.0, 2.0, 3.0, 4.0])), {"n": 1}, shape=(2, 2))', '    time.sleep(0.05)'].join('\n')], { ...process.env, PYTHONPATH });
    children.push(writer);
    const ring = (await writer.waitFor(/ring (wmr_[0-9a-f]+)/))[1] ?? '';
    const napari = bridge();
    await napari.start();
    const frames = collect('napari.image');
    await fixture.command('set_data', { value: { webmon_rings: { 'napari.image': ring } } });
    await eventually(() => frames.length >= 2, 20_000, 'frames from the ring');
    expect(frames[0]).toMatchObject({ dtype: 'float32', shape: [2, 2], meta: { n: 1 } });
    expect(napari.ringStats['napari.image']).toMatchObject({ ring });
    // The ring stops being named: its topic is retired.
    await fixture.command('set_data', { value: { webmon_rings: {} } });
    await eventually(() => !pair.relay.hasTopic('napari.image'), 10_000, 'the ring topic retired');
  });

  it('says nothing of a ring it was still opening when it was stopped (its producer may be gone with napari)', async () => {
    const said: string[] = [];
    const logger = { info: (message: string) => said.push(message), warn: (message: string) => said.push(message), debug: () => undefined };
    const napari = createNapariBridge({ relay: pair.relay, address: { host: '127.0.0.1', port: fixture.port }, logger, pollIntervalMs: 10 });
    bridges.push(napari);
    await napari.start();
    // A ring that does not exist: opening it waits for it (2 s) before it fails.
    await fixture.command('set_data', { value: { webmon_rings: { 'napari.image': 'wmr_00000000dead' } } });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await napari.close();
    const atClose = said.length;
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(said.slice(atClose)).toEqual([]);
    expect(said.some((line) => line.includes('cannot open ring'))).toBe(false);
  });

  it('keeps two napari sources apart under their prefixes', async () => {
    const second = await NapariFixture.start(PYTHON, { FIXTURE_SHARED_LIST: '0' });
    try {
      const left = bridge('napari');
      const right = createNapariBridge({ relay: pair.relay, address: { host: '127.0.0.1', port: second.port }, prefix: 'napari2', pollIntervalMs: 10 });
      bridges.push(right);
      await left.start();
      await right.start();
      const leftTimes = collect('napari.frame_time');
      const rightTimes = collect('napari2.frame_time');
      await fixture.command('put_messages', { count: 2 });
      await second.command('put_messages', { count: 5 });
      await eventually(() => leftTimes.length >= 2 && rightTimes.length >= 5, 10_000, 'both streams');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect([leftTimes.length, rightTimes.length]).toEqual([2, 5]);
      expect(left.owns('napari.layers') && !left.owns('napari2.layers') && right.owns('napari2.layers')).toBe(true);
    } finally {
      await second.stop();
    }
  });

  it("ends, when its napari leaves, with why and the app's word for what it does then", async () => {
    const said: string[] = [];
    const logger = { info: (message: string) => said.push(message), warn: (message: string) => said.push(message), debug: () => undefined };
    const attached = createNapariBridge({ relay: pair.relay, address: { host: '127.0.0.1', port: fixture.port }, label: 'program demo', ending: () => 'serving on', logger, pollIntervalMs: 10 });
    bridges.push(attached);
    await attached.start();
    await fixture.stop();
    await attached.ended;
    expect(said.filter((line) => line.includes('program demo') && !line.startsWith('connected'))).toEqual([expect.stringMatching(/^(program demo shut down|lost program demo \(.*\)); serving on$/)]);
  });
});
