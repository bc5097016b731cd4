/**
 * A new session remounts every page (protocol 1.5: a replay that seeks restarts the relay's session on the
 * open connection; a restarted server does the same through a reconnect). Against a real relay and the real
 * relay client over a socket on port 0.
 */
import { describe, expect, it } from 'vitest';
import { definePage, type DataInfo } from '../src/index.js';
import { createPageHost } from '../src/host/index.js';
import { connect, waitFor } from './relay-helpers.js';

/** A stand-in element that can be cleared, as the host does on a remount. */
function clearable(): HTMLElement & { cleared: number } {
  const element = { dataset: {}, textContent: 'drawn', title: '', cleared: 0 } as unknown as HTMLElement & { cleared: number };
  element.replaceChildren = () => {
    element.cleared += 1;
    element.textContent = '';
  };
  return element;
}

describe('page host on a new session', () => {
  it('remounts every page in its element; the new mount gets the new session’s snapshot; acknowledgements go on', async () => {
    const { relay, client } = await connect([{ name: 'stats', mode: 'latest', replayMs: 1_000 }]);
    const host = createPageHost({ client });
    const mounts: { seen: { payload: unknown; info: DataInfo }[]; disposed: boolean }[] = [];
    const page = definePage({
      id: 'chart',
      title: 'Chart',
      topics: ['stats'],
      mount: (_element, context) => {
        const mount = { seen: [] as { payload: unknown; info: DataInfo }[], disposed: false };
        mounts.push(mount);
        context.subscribe('stats', (payload, info) => void mount.seen.push({ payload, info }));
        return () => {
          mount.disposed = true;
        };
      },
    });
    const element = clearable();
    const handle = host.mountPage(page, element);
    await waitFor(() => relay.stats().clients[0]?.windowedTopics === 1, 'the subscription');
    relay.publish('stats', { before: 1 });
    await waitFor(() => mounts[0]!.seen.length === 1, 'a value of the first session');

    // A seek: the relay restarts the session and the values at the cursor are published.
    relay.restartSession();
    const now = Date.now();
    for (const age of [600, 300, 0]) relay.publish('stats', { age }, { time: now - age });
    await waitFor(() => mounts.length === 2 && mounts[1]!.seen.length === 3, 'the remounted page with the new snapshot');
    expect(mounts[0]!.disposed).toBe(true);
    expect(element.cleared).toBe(1);
    expect(mounts[1]!.seen.map(({ payload }) => payload)).toEqual([{ age: 600 }, { age: 300 }, { age: 0 }]);
    expect(mounts[1]!.seen.every(({ info }) => info.replayed)).toBe(true);
    expect(mounts[0]!.seen).toHaveLength(1); // the old mount got nothing of the new session

    // One subscription of the new session (no repeated snapshot), credits flowing, no error.
    relay.publish('stats', { live: true });
    await waitFor(() => mounts[1]!.seen.length === 4, 'a live value after the remount');
    await waitFor(() => relay.stats().clients[0]?.unackedMessages === 0, 'the last acknowledgement');
    expect(relay.stats().clients[0]).toMatchObject({ subscriptions: ['stats'], acksDistrusted: false });

    // The handle outlives remounts: disposing it stops the current mount.
    handle.dispose();
    expect(mounts[1]!.disposed).toBe(true);
    relay.restartSession();
    await waitFor(() => client.sessionId === relay.sessionId, 'the third session');
    expect(mounts).toHaveLength(2);
    host.dispose();
  });
});
