/**
 * Array views through the page host, against a real relay and the real relay client over a socket on
 * port 0: a page subscribes with the view it draws and changes it when it zooms; the host passes both to
 * the client and keeps pages to their declared topics.
 */
import { describe, expect, it } from 'vitest';
import type { DecodedFrame } from '@webmon/protocol';
import type { SubscribeOptions } from '@webmon/relay/client';
import { definePage, type PageContext } from '../src/index.js';
import { createPageHost } from '../src/host/index.js';
import { connect, element, waitFor } from './relay-helpers.js';

describe('array views through the page host', () => {
  it('subscribes with the page’s view and changes it with context.setView', async () => {
    const { relay, client } = await connect([{ name: 'image', mode: 'latest', binary: true }]);
    relay.publishFrame('image', { dtype: 'float32', shape: [100, 100] }, new Float32Array(100 * 100).fill(2));

    const frames: DecodedFrame[] = [];
    let context: PageContext<'image'> | undefined;
    createPageHost({ client }).mountPage(
      definePage({
        id: 'views',
        title: 'Views',
        topics: ['image'],
        mount: (_element, pageContext) => {
          context = pageContext;
          pageContext.subscribe('image', (payload) => void frames.push(payload as DecodedFrame), { view: { maxShape: [10, 20] } });
        },
      }),
      element(),
    );
    await waitFor(() => frames.length === 1, 'the snapshot in the view');
    expect(frames[0]).toMatchObject({ shape: [10, 10], view: { step: 10 } });

    await context!.setView('image', { maxShape: [10, 20], region: { y0: 0, x0: 0, y1: 10, x1: 20 }, dtype: 'uint8' });
    await waitFor(() => frames.length === 2, 'the zoomed view');
    expect(frames[1]).toMatchObject({ dtype: 'uint8', shape: [10, 20], view: { step: 1, offset: 2, scale: 0 } });
    // A topic the page did not declare is refused by the host, before the wire.
    await expect((context as unknown as PageContext<string>).setView('other', undefined)).rejects.toMatchObject({ code: 'PAGE_UNDECLARED_TOPIC' });
  });

  it('passes borrowFrames to the client with the view (and not when the page keeps its frames)', async () => {
    const { relay, client } = await connect([{ name: 'image', mode: 'latest', binary: true }, { name: 'kept', mode: 'latest', binary: true }]);
    relay.publishFrame('image', { dtype: 'float32', shape: [4, 4] }, new Float32Array(16).fill(1));
    relay.publishFrame('kept', { dtype: 'float32', shape: [4, 4] }, new Float32Array(16).fill(2));
    // The real client, its subscribe watched: what page-kit asks of a host's client is the contract here.
    const asked = new Map<string, SubscribeOptions | undefined>();
    const watched = new Proxy(client, {
      get: (target, key, receiver) => (key === 'subscribe'
        ? (topic: string, handler: never, options?: SubscribeOptions) => (asked.set(topic, options), target.subscribe(topic, handler, options))
        : Reflect.get(target, key, receiver)),
    });
    const firsts: number[] = [];
    createPageHost({ client: watched }).mountPage(
      definePage({
        id: 'borrowing',
        title: 'Borrowing',
        topics: ['image', 'kept'],
        mount: (_element, pageContext) => {
          pageContext.subscribe('image', (payload) => void firsts.push(((payload as DecodedFrame).data as Float32Array)[0]!), { view: { maxShape: [2, 2] }, borrowFrames: true });
          pageContext.subscribe('kept', (payload) => void firsts.push(((payload as DecodedFrame).data as Float32Array)[0]!));
        },
      }),
      element(),
    );
    await waitFor(() => firsts.length === 2, 'both snapshots');
    expect(firsts.sort()).toEqual([1, 2]);
    expect(asked.get('image')).toEqual({ view: { maxShape: [2, 2] }, borrowFrames: true });
    expect(asked.get('kept')).toEqual({});
  });
});
