/**
 * A napari (or plugin) that sends "billion laughs" values: ~1 KB pickles of memo-shared lists that expand to
 * 10^8 values as a tree. Against the real client and a real CPython manager, at napari's frame rate, on both
 * streams at once: the process must stay small and responsive while a normal key keeps flowing.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import type { ShmReaderError } from '@webmon/shm-reader';
import { NapariFixture, interpreterMatrix } from '@webmon/test-python';
import { NapariClient, type InvalidItem } from '../../src/node.js';

const { heavy } = interpreterMatrix();
const python = heavy.at(-1)!;

const fixtures: NapariFixture[] = [];
const clients: NapariClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(fixtures.splice(0).map((f) => f.stop()));
});

async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe(`NapariClient under shared-reference expansion (CPython ${python.version})`, () => {
  it('~1 KB pickles expanding to 10^8 values at 60 Hz on napari_messages and napari_data: < 50 MiB, < 50 ms stalls', async () => {
    const server = await NapariFixture.start(python.path, { FIXTURE_SHARED_LIST: '0' });
    fixtures.push(server);
    const client = await NapariClient.connect({ port: server.port, pollIntervalMs: 16 });
    clients.push(client);
    const invalid: InvalidItem[] = [];
    const normal: number[] = [];
    client.on('invalid', (item) => invalid.push(item));
    client.on('data', (key, value) => {
      if (key === 'normal') normal.push(value as number);
    });
    await server.command('set_data', { value: { normal: -1 } });
    await until(() => normal.includes(-1), 'the normal key');

    const hz = 60;
    const count = 120; // ~2 s
    const baseline = process.memoryUsage().rss;
    let peakRss = baseline;
    let worstLateMs = 0;
    let worstOwnLateMs = 0;
    let last = performance.now();
    let lastCpu = process.cpuUsage();
    // A concurrent 10 ms timer: how late does it fire? (and the event loop's own view of it). The cores are
    // shared with other test runs, so a late tick may be the OS running someone else: the part of the delay
    // this process could have caused is at most the CPU time it used meanwhile (all its threads counted).
    const timer = setInterval(() => {
      const now = performance.now();
      const cpu = process.cpuUsage(lastCpu);
      const late = now - last - 10;
      worstLateMs = Math.max(worstLateMs, late);
      worstOwnLateMs = Math.max(worstOwnLateMs, Math.min(late, (cpu.user + cpu.system) / 1000));
      last = now;
      lastCpu = process.cpuUsage();
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 10);
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const started = performance.now();
    let caughtUp: unknown = true;
    try {
      await server.command('laughs_stream', { key: 'laughs', width: 100, levels: 4, hz, count });
      await server.command('join_streams');
      // The figures are logged even when the client never catches up (as before the fix).
      await until(() => normal.at(-1) === count - 1, 'the normal key to reach the last tick', 60_000).catch((error) => (caughtUp = error));
      await until(() => invalid.filter((i) => i.source === 'message').length === count, 'every attack message reported', 30_000).catch(
        (error) => (caughtUp = error),
      );
    } finally {
      clearInterval(timer);
      loop.disable();
    }
    const seconds = (performance.now() - started) / 1000;
    const rssMiB = (peakRss - baseline) / 2 ** 20;
    const loopMaxMs = loop.max / 1e6;
    console.log(
      `laughs at ${hz} Hz × ${count}: done in ${seconds.toFixed(2)} s, RSS +${rssMiB.toFixed(1)} MiB (peak), ` +
        `10 ms timer up to ${worstLateMs.toFixed(1)} ms late (${worstOwnLateMs.toFixed(1)} ms of it on this process's CPU), ` +
        `event-loop delay max ${loopMaxMs.toFixed(1)} ms, ` +
        `${normal.length} normal values, ${invalid.length} invalid reports`,
    );

    expect(caughtUp).toBe(true);
    // Every attack item is refused for what it is; the data key is reported once (it keeps failing the same way).
    for (const item of invalid) expect((item.error as ShmReaderError).code).toBe('SHM_READER_PICKLE_LIMIT');
    expect(invalid.filter((i) => i.source === 'data').map((i) => i.key)).toEqual(['laughs']);
    // The normal key flowed all along (a value per read that saw a new tick; reads may skip ticks).
    expect(normal.length).toBeGreaterThan(count / 4);
    expect(rssMiB).toBeLessThan(50);
    expect(worstOwnLateMs).toBeLessThan(50);
    // Wall-clock stalls include the OS's: bounded loosely (unfixed, the client stalled for 20 s).
    expect(worstLateMs).toBeLessThan(1_000);
    expect(loopMaxMs).toBeLessThan(1_000);
  });
});
