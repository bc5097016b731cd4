/**
 * The context a mounted page gets: subscriptions limited to the page's declared topics and released
 * when the page's signal aborts, commands passed through, the connection state.
 */
import { PageError, PageErrorCode } from '../errors.js';
import { topicAllowed, type DataInfo, type Page, type PageContext } from '../page.js';
import type { ConnectionTracker } from './connection.js';
import type { PageHostClient } from './types.js';

export function createPageContext(page: Page, client: PageHostClient, connection: ConnectionTracker, signal: AbortSignal): PageContext {
  const cleanups: (() => void)[] = [];
  /** Live subscriptions by topic: gap notices go to the page only for topics it subscribed to. */
  const subscribed = new Map<string, number>();
  signal.addEventListener('abort', () => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });
  return {
    subscribe(topic, onData, options = {}) {
      if (!topicAllowed(page.topics, topic)) {
        throw new PageError(PageErrorCode.UNDECLARED_TOPIC, `page ${page.id} subscribed to ${topic}, which is not in its topics (${page.topics.join(', ')})`);
      }
      // Payloads are validated by the relay client before they get here. Binary topics hand the page
      // the decoded frame (`DecodedFrame`: dtype, shape, meta, and `data` as a typed array over the
      // received bytes) as their payload.
      // The page's result goes back to the client, which acknowledges the value when it settles
      // (and `defer` lets the page hold the acknowledgement until it has drawn).
      const unsubscribe = client.subscribe(topic, (event) => {
        if (signal.aborted) return undefined;
        const info: DataInfo = { seq: event.seq, time: event.time, replayed: event.replay, defer: event.defer };
        return (onData as (payload: unknown, info: DataInfo) => unknown)(event.kind === 'frame' ? event.frame : event.payload, info);
      }, {
        ...(options.view === undefined ? {} : { view: options.view }),
        ...(options.borrowFrames === true ? { borrowFrames: true } : {}),
      });
      subscribed.set(topic, (subscribed.get(topic) ?? 0) + 1);
      let done = false;
      const release = (): void => {
        if (done) return;
        done = true;
        unsubscribe();
        const left = (subscribed.get(topic) ?? 1) - 1;
        if (left > 0) subscribed.set(topic, left);
        else subscribed.delete(topic);
      };
      cleanups.push(release);
      return release;
    },
    setView(topic, view) {
      if (!topicAllowed(page.topics, topic)) {
        return Promise.reject(new PageError(PageErrorCode.UNDECLARED_TOPIC, `page ${page.id} set a view of ${topic}, which is not in its topics (${page.topics.join(', ')})`));
      }
      return client.setView?.(topic, view) ?? Promise.resolve();
    },
    command(name, args, options = {}) {
      return client.command(name, args, options);
    },
    get topics() {
      return client.topics;
    },
    onTopics(listener) {
      const off = client.onTopics(listener);
      cleanups.push(off);
      return off;
    },
    onGap(listener) {
      const off =
        client.onGap?.((gap) => {
          if (!signal.aborted && subscribed.has(gap.topic)) listener({ topic: gap.topic, dropped: gap.dropped, fromSeq: gap.fromSeq, toSeq: gap.toSeq });
        }) ?? (() => undefined);
      cleanups.push(off);
      return off;
    },
    get connection() {
      return connection.info;
    },
    onConnection(listener) {
      const off = connection.onChange(listener);
      cleanups.push(off);
      return off;
    },
    signal,
  };
}
