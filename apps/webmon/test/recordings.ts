/** Small recordings made in the tests: a real relay recorded by the recorder, values published at a set pace. */
import { recordToFile } from '@webmon/recorder';
import { createRelay } from '@webmon/relay';

/**
 * Records `count` values on each of `demo.ticks` (a stream, `replayMs` 10 s) and `demo.stats` (a JSON
 * `latest` topic keeping a minute, as napari's plugin data does: `CHART_HISTORY_MS`), `{n}` with n = 0, 1, …,
 * one pair every `everyMs`.
 */
export async function recordTicks(path: string, count: number, everyMs: number): Promise<void> {
  const live = createRelay({
    topics: [
      { name: 'demo.ticks', mode: 'stream', replayMs: 10_000 },
      { name: 'demo.stats', mode: 'latest', replayMs: 60_000 },
    ],
  });
  const recorder = await recordToFile(live, { path });
  try {
    for (let n = 0; n < count; n++) {
      live.publish('demo.ticks', { n });
      live.publish('demo.stats', { n });
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  } finally {
    await recorder.close();
    await live.close();
  }
}
