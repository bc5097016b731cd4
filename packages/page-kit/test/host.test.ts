import type { GapMessage, StatusMessage } from '@webmon/protocol';
import type { ConnectionState, TopicEvent } from '@webmon/relay/client';
import { describe, expect, it, vi } from 'vitest';
import { definePage, type PageContext } from '../src/index.js';
import { createPageHost, readHostManifest, type PageHostClient } from '../src/host/index.js';

/** A relay client stand-in: records subscriptions, lets the test drive state and status. */
function fakeClient() {
  const handlers = new Map<string, Set<(event: TopicEvent<unknown>) => void>>();
  const states = new Set<(state: ConnectionState) => void>();
  const statuses = new Set<(status: StatusMessage) => void>();
  const gaps = new Set<(gap: GapMessage) => void>();
  const client: PageHostClient = {
    subscribe(topic, handler) {
      const set = handlers.get(topic) ?? new Set();
      handlers.set(topic, set.add(handler));
      return () => set.delete(handler);
    },
    command: vi.fn(async () => 'ok'),
    topics: [],
    onTopics: () => () => undefined,
    onStateChange: (handler) => (states.add(handler), () => states.delete(handler)),
    onStatus: (handler) => (statuses.add(handler), () => statuses.delete(handler)),
    onGap: (handler) => (gaps.add(handler), () => gaps.delete(handler)),
  };
  return {
    client,
    subscribers: (topic: string) => handlers.get(topic)?.size ?? 0,
    publish: (topic: string, payload: unknown) => {
      for (const handler of handlers.get(topic) ?? []) handler({ kind: 'data', topic, payload, seq: 1, time: 2, replay: false, defer: () => () => undefined });
    },
    state: (state: ConnectionState) => states.forEach((handler) => handler(state)),
    status: (status: StatusMessage) => statuses.forEach((handler) => handler(status)),
    gap: (gap: GapMessage) => gaps.forEach((handler) => handler(gap)),
    listeners: () => states.size + statuses.size + gaps.size,
  };
}

const element = (): HTMLElement => ({ dataset: {}, textContent: '', title: '' }) as unknown as HTMLElement;

describe('createPageHost', () => {
  it('scopes a page to its topics and releases everything on dispose', () => {
    const fake = fakeClient();
    const host = createPageHost({ client: fake.client });
    const received: unknown[] = [];
    let context: PageContext | undefined;
    const disposer = vi.fn();
    const page = definePage({
      id: 'a',
      title: 'A',
      topics: ['t.one'],
      mount(_element, ctx) {
        context = ctx;
        ctx.subscribe('t.one', (payload, info) => received.push([payload, info]));
        ctx.onConnection(() => undefined);
        return disposer;
      },
    });
    const mounted = host.mountPage(page, element());
    fake.publish('t.one', { x: 1 });
    expect(received).toEqual([[{ x: 1 }, { seq: 1, time: 2, replayed: false, defer: expect.any(Function) }]]);
    expect(() => context?.subscribe('t.other', () => undefined)).toThrow(expect.objectContaining({ code: 'PAGE_UNDECLARED_TOPIC' }));
    void context?.command('go', 1);
    expect(fake.client.command).toHaveBeenCalledWith('go', 1, {});

    host.dispose();
    expect(disposer).toHaveBeenCalledOnce();
    expect(context?.signal.aborted).toBe(true);
    expect(fake.subscribers('t.one')).toBe(0);
    expect(fake.listeners()).toBe(0);
    mounted.dispose(); // twice is harmless
    expect(disposer).toHaveBeenCalledOnce();
  });

  it("passes on the server's gap notices for the topics the page subscribed to, until it unsubscribes", () => {
    const fake = fakeClient();
    const host = createPageHost({ client: fake.client });
    const gaps: unknown[] = [];
    let unsubscribe: (() => void) | undefined;
    const page = definePage({
      id: 'a',
      title: 'A',
      topics: ['s.*'],
      mount(_element, ctx) {
        unsubscribe = ctx.subscribe('s.one', () => undefined);
        ctx.onGap((gap) => gaps.push(gap));
      },
    });
    host.mountPage(page, element());
    fake.gap({ type: 'gap', topic: 's.one', dropped: 3, fromSeq: 6, toSeq: 8 });
    fake.gap({ type: 'gap', topic: 's.two', dropped: 1, fromSeq: 1, toSeq: 1 }); // declared, not subscribed
    expect(gaps).toEqual([{ topic: 's.one', dropped: 3, fromSeq: 6, toSeq: 8 }]);
    unsubscribe?.();
    fake.gap({ type: 'gap', topic: 's.one', dropped: 1, fromSeq: 10, toSeq: 10 });
    expect(gaps).toHaveLength(1);
    host.dispose();
    expect(fake.listeners()).toBe(0);
  });

  it('releases what a failing mount registered, and rethrows', () => {
    const fake = fakeClient();
    const host = createPageHost({ client: fake.client });
    const page = definePage({
      id: 'a',
      title: 'A',
      topics: ['t'],
      mount(_element, ctx) {
        ctx.subscribe('t', () => undefined);
        throw new Error('broken page');
      },
    });
    expect(() => host.mountPage(page, element())).toThrow('broken page');
    expect(fake.subscribers('t')).toBe(0);
  });

  it('mirrors the connection onto the status element with the labels it was given', () => {
    const fake = fakeClient();
    const status = element();
    const host = createPageHost({ client: fake.client, statusElement: status, statusText: { waiting: 'waiting for it' }, sourceLabel: 'the source', serverLabel: 'srv' });
    expect(status.dataset).toEqual({ state: 'waiting', socket: 'connecting' });
    expect([status.textContent, status.title]).toEqual(['waiting for it', 'the source']);
    const seen: string[] = [];
    host.onConnection((info) => seen.push(`${info.source}/${info.socket}`));
    fake.state('open');
    fake.status({ type: 'status', code: 'source.connected', time: 0 } as StatusMessage);
    expect(status.textContent).toBe('connected');
    fake.state('reconnecting');
    expect(host.connection).toEqual({ source: 'disconnected', socket: 'connecting', message: 'srv is not reachable' });
    expect([status.dataset['state'], status.textContent, status.title]).toEqual(['disconnected', 'disconnected', 'srv is not reachable']);
    expect(seen).toEqual(['waiting/open', 'connected/open', 'disconnected/connecting']);
  });

  it('with several sources shows the worst state and names the source it is about', () => {
    const fake = fakeClient();
    const status = element();
    const host = createPageHost({ client: fake.client, statusElement: status });
    fake.state('open');
    fake.status({ type: 'status', code: 'source.connected', source: 'napari', message: 'napari at :1', time: 0 } as StatusMessage);
    fake.status({ type: 'status', code: 'source.connected', source: 'right', message: 'napari at :2', time: 0 } as StatusMessage);
    expect(host.connection).toMatchObject({ source: 'connected', sources: { napari: 'connected', right: 'connected' } });
    // The second window quits: the page must not keep saying "connected" because the first is fine.
    fake.status({ type: 'status', code: 'source.disconnected', source: 'right', message: 'napari shut down', time: 1 } as StatusMessage);
    fake.status({ type: 'status', code: 'source.connected', source: 'napari', message: 'napari at :1', time: 2 } as StatusMessage);
    expect(host.connection).toMatchObject({ source: 'disconnected', message: 'right: napari shut down', sources: { napari: 'connected', right: 'disconnected' } });
    expect(status.dataset['state']).toBe('disconnected');
    fake.status({ type: 'status', code: 'source.connected', source: 'right', message: 'napari at :3', time: 3 } as StatusMessage);
    expect(host.connection.source).toBe('connected');
    fake.status({ type: 'status', code: 'server.closing', time: 4 } as StatusMessage);
    expect(host.connection).toMatchObject({ source: 'disconnected' });
  });
});

describe('readHostManifest', () => {
  it('reads a well-formed manifest and refuses a broken one with a typed error', () => {
    const manifest = { current: 'a', pages: [{ id: 'a', title: 'A', path: '/a', module: '/pages/a/page.js', topics: ['t'] }], ws: '/ws', sourceLabel: 'napari' };
    expect(readHostManifest(JSON.stringify(manifest))).toEqual(manifest);
    expect(() => readHostManifest('{')).toThrow(expect.objectContaining({ code: 'PAGE_INVALID_HOST_MANIFEST' }));
    expect(() => readHostManifest(JSON.stringify({ ...manifest, pages: [{ id: 'a' }] }))).toThrow(expect.objectContaining({ code: 'PAGE_INVALID_HOST_MANIFEST', field: 'page fields' }));
  });
});
