/**
 * /explorer: every topic of every source as it arrives, with no page to write. `latest` values as
 * collapsible trees updated in place, `stream` topics as their newest message plus the last messages
 * (with the gaps the relay reports), binary arrays as images; a click on a number charts it over time,
 * and the charts are kept in the URL. Topics declared later appear at once; a source that goes away is
 * greyed, never dropped.
 *
 * At 60 Hz per topic the page does no DOM work per message: a message is stored (and charted), the
 * card is marked, and one animation frame draws every marked card (the trees walk only open nodes).
 */
import { definePage } from '@webmon/page-kit';
import type { ConnectionInfo, DataInfo, PageContext, SourceState } from '@webmon/page-kit';
import type { DecodedFrame, TopicInfo } from '@webmon/protocol';
import { createChartsPanel } from './charts.js';
import { createImagePanel, type ImagePanel } from './image-panel.js';
import { createJsonTree, type JsonTree } from './json-tree.js';
import { readCharts, writeCharts, type PathSegment } from './selection.js';
import { createStreamLog, renderStreamLog, type StreamLog } from './stream-log.js';
import { EXPLORER_CSS } from './style.js';

/** Messages of a stream topic listed under its newest one. */
const STREAM_ROWS = 30;
/** Longest one-line JSON of a stream message in the list. */
const MAX_LINE = 400;

export const EXPLORER_PAGE = {
  id: 'explorer',
  title: 'Explorer',
  description: 'Every topic of every source as it arrives: live trees, stream messages, images; click a number to chart it.',
  topics: ['*'],
} as const;

interface Card {
  info: TopicInfo;
  source: SourceSection;
  element: HTMLElement;
  head: HTMLElement;
  body: HTMLElement;
  retired: boolean;
  open: boolean;
  /** Live values, and values from the snapshot a (re)subscription starts with (history, not news). */
  received: number;
  snapshot: number;
  /** The newest value not drawn yet (`undefined`: nothing new). */
  pending: { value: unknown } | undefined;
  tree: JsonTree | undefined;
  log: StreamLog | undefined;
  logList: HTMLElement | undefined;
  image: ImagePanel | undefined;
  /** Open/closed nodes of this topic's tree, kept across redraws, retirement and re-declaration. */
  expanded: Map<string, boolean>;
  /** Acknowledgements held until the value is drawn (the relay paces `latest` topics by them). */
  acks: (() => void)[];
  dirty: boolean;
}

interface SourceSection {
  name: string;
  element: HTMLElement;
  title: HTMLElement;
  list: HTMLElement;
  cards: number;
}

const sourceOf = (topic: string): string => topic.split('.')[0] ?? topic;

function oneLine(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_LINE ? `${text.slice(0, MAX_LINE)}…` : text;
}

function isFrame(payload: unknown): payload is DecodedFrame {
  return typeof payload === 'object' && payload !== null && 'dtype' in payload && 'shape' in payload && ArrayBuffer.isView((payload as { data?: unknown }).data);
}

export const page = definePage({
  ...EXPLORER_PAGE,
  mount(element, context) {
    return mountExplorer(element, context);
  },
});

function mountExplorer(element: HTMLElement, context: PageContext): () => void {
  const root = document.createElement('div');
  root.className = 'wx-explorer';
  root.dataset['role'] = 'explorer';
  const style = root.appendChild(document.createElement('style'));
  style.textContent = EXPLORER_CSS;

  const charts = createChartsPanel({
    onChange: (chosen) => {
      const search = writeCharts(location.search, chosen);
      if (search !== location.search) history.replaceState(history.state, '', `${location.pathname}${search}${location.hash}`);
    },
  });
  root.append(charts.element);
  const sourcesElement = root.appendChild(document.createElement('div'));
  sourcesElement.className = 'wx-sources';
  sourcesElement.dataset['role'] = 'sources';
  const empty = sourcesElement.appendChild(document.createElement('p'));
  empty.className = 'wx-empty';
  empty.textContent = 'No topics yet: they appear here as sources declare them.';
  element.replaceChildren(root);

  const cards = new Map<string, Card>();
  const sources = new Map<string, SourceSection>();
  const subscribed = new Set<string>();
  // The relay's gap notices, when the host passes them on (page-kit ≥ the one with `onGap`; this page
  // may be served by an older host): else the stream logs infer gaps from seq jumps.
  const gapNotices = typeof (context as Partial<PageContext>).onGap === 'function';
  let frame = 0;

  // ---- drawing, once per animation frame

  const draw = (card: Card): void => {
    card.dirty = false;
    const { info } = card;
    card.element.dataset['count'] = String(card.received);
    card.element.dataset['snapshot'] = String(card.snapshot);
    card.element.dataset['state'] = card.retired ? 'retired' : 'live';
    const log = card.log?.state;
    // A closed image card of a `latest` topic holds the frame it has yet to show, and with it the topic's
    // acknowledgement (see `releaseAcks`): nothing more comes until it is opened, so its count stops. Said
    // so, rather than leaving a count that looks stalled.
    const paused = card.image !== undefined && !card.open && !card.retired && info.mode === 'latest' && card.pending !== undefined;
    card.element.dataset['paused'] = String(paused);
    const parts = [info.mode, ...(info.binary ? ['binary'] : []), `${card.received} received`, ...(paused ? ['paused while closed'] : []), ...(card.snapshot > 0 ? [`${card.snapshot} in snapshot`] : []), ...(log && log.dropped > 0 ? [`${log.dropped} dropped`] : []), ...(card.retired ? ['retired'] : [])];
    const meta = card.head.querySelector('.wx-topic-meta') as HTMLElement;
    const text = parts.join(' · ');
    if (meta.textContent !== text) meta.textContent = text;
    if (log) card.element.dataset['dropped'] = String(log.dropped);
    if (!card.open) return;
    const pending = card.pending;
    card.pending = undefined;
    if (pending === undefined) return;
    if (info.binary) {
      if (card.image && isFrame(pending.value)) {
        // Acknowledged once on screen: the relay then sends the next frame (at most one waits).
        const acks = card.acks.splice(0);
        void card.image.show(pending.value).finally(() => acks.forEach((done) => done()));
      }
      return;
    }
    card.tree ??= createJsonTree(card.body.querySelector('.wx-value') as HTMLElement, {
      expanded: card.expanded,
      onPick: (path, event) => pick(info.name, path, event),
    });
    card.tree.update(pending.value);
    if (card.log && card.logList) renderStreamLog(card.logList, card.log.state);
  };

  /**
   * Releases what a card holds acknowledged, except an image card's hold on the frame it has yet to show (a
   * closed card, a retired topic's last frame): that frame is borrowed (see `subscribe` below), and its buffer
   * may go back once acknowledged. A closed card's `latest` topic then sends nothing more until it is opened.
   */
  const releaseAcks = (card: Card): void => {
    const held = card.image && card.pending !== undefined ? card.acks.pop() : undefined;
    for (const done of card.acks.splice(0)) done();
    if (held) card.acks.push(held);
  };

  const render = (): void => {
    frame = 0;
    for (const card of cards.values()) {
      if (card.dirty) draw(card);
      releaseAcks(card);
    }
    empty.hidden = cards.size > 0;
    root.dataset['topics'] = String(cards.size);
  };
  const schedule = (): void => {
    if (frame === 0) frame = requestAnimationFrame(render);
  };

  const pick = (topic: string, path: readonly PathSegment[], event: MouseEvent): void => {
    const count = charts.charts().length;
    charts.add({ topic, path: [...path] }, event.shiftKey && count > 0 ? count - 1 : undefined);
  };

  // ---- sources and their states

  const paintSource = (section: SourceSection): void => {
    const known: SourceState | undefined = context.connection.sources?.[section.name];
    const live = [...cards.values()].some((card) => card.source === section && !card.retired);
    // Greyed when the server says the source is gone, or when every topic it had is retired.
    const state = known === 'disconnected' || !live ? 'gone' : (known ?? 'connected');
    section.element.dataset['state'] = state;
    section.title.textContent = `${section.name} · ${state === 'gone' ? 'gone' : state}`;
  };

  const section = (name: string): SourceSection => {
    let found = sources.get(name);
    if (found) return found;
    const element = document.createElement('section');
    element.className = 'wx-source';
    element.dataset['source'] = name;
    const title = element.appendChild(document.createElement('h2'));
    const list = element.appendChild(document.createElement('div'));
    list.className = 'wx-topic-list';
    found = { name, element, title, list, cards: 0 };
    // Sources sorted by name, so a reload shows them in the same order.
    const after = [...sources.keys()].sort().find((other) => other > name);
    sourcesElement.insertBefore(element, after === undefined ? null : (sources.get(after)?.element ?? null));
    sources.set(name, found);
    return found;
  };

  // ---- topics

  const onData = (card: Card, payload: unknown, info: DataInfo): void => {
    if (info.replayed) card.snapshot += 1;
    else card.received += 1;
    if (card.log) card.log.add(info.seq, info.time, oneLine(payload));
    if (!card.info.binary && charts.wants(card.info.name)) charts.push(card.info.name, payload, info.time);
    card.pending = { value: payload };
    card.dirty = true;
    // Held until shown: a `latest` topic's acknowledgement, and any image's borrowed buffer.
    if (card.info.mode === 'latest' || card.image) card.acks.push(info.defer());
    schedule();
  };

  const add = (info: TopicInfo): void => {
    const existing = cards.get(info.name);
    if (existing) {
      existing.info = info;
      existing.retired = false;
      existing.dirty = true;
      paintSource(existing.source);
      return;
    }
    const source = section(sourceOf(info.name));
    const element = document.createElement('details');
    element.className = 'wx-topic';
    element.open = true;
    element.dataset['topic'] = info.name;
    element.dataset['mode'] = info.mode;
    if (info.binary) element.dataset['binary'] = 'true';
    const head = element.appendChild(document.createElement('summary'));
    head.appendChild(document.createElement('span')).className = 'wx-topic-name';
    (head.firstElementChild as HTMLElement).textContent = info.name;
    head.appendChild(document.createElement('span')).className = 'wx-topic-meta';
    const body = element.appendChild(document.createElement('div'));
    body.className = 'wx-topic-body';
    const card: Card = {
      info,
      source,
      element,
      head,
      body,
      retired: false,
      open: true,
      received: 0,
      snapshot: 0,
      pending: undefined,
      tree: undefined,
      log: undefined,
      logList: undefined,
      image: undefined,
      expanded: new Map(),
      acks: [],
      dirty: true,
    };
    if (!info.binary) {
      body.appendChild(document.createElement('div')).className = 'wx-value';
      if (info.mode === 'stream') {
        card.log = createStreamLog(STREAM_ROWS, !gapNotices);
        const label = body.appendChild(document.createElement('div'));
        label.className = 'wx-log-label';
        label.textContent = `last ${STREAM_ROWS} messages, newest first`;
        card.logList = body.appendChild(document.createElement('ol'));
        card.logList.className = 'wx-log';
        card.logList.dataset['role'] = 'messages';
      }
    }
    element.addEventListener('toggle', () => {
      card.open = element.open;
      // Opened: draw what it holds. Closed: its header may now say it is paused.
      card.dirty = true;
      schedule();
    });
    // Topics sorted by name within their source: a source's kinds stay together.
    const after = [...cards.values()].filter((other) => other.source === source && other.info.name > info.name).sort((a, b) => (a.info.name < b.info.name ? -1 : 1))[0];
    source.list.insertBefore(element, after?.element ?? null);
    source.cards += 1;
    cards.set(info.name, card);
    paintSource(source);
    if (info.binary) card.image = createImagePanel(body, { setView: (view) => context.setView(info.name, view) });
    if (!subscribed.has(info.name)) {
      subscribed.add(info.name);
      // An array topic is asked for at the size of its canvas (the image view reports later changes). Its
      // frames are borrowed: each is acknowledged once shown (or replaced), and the image view reads nothing
      // of it after that, so its buffer may go back to where it came from (the relay client's bulk worker).
      context.subscribe(info.name, (payload, data) => onData(card, payload, data), card.image ? { view: card.image.view(), borrowFrames: true } : {});
    }
  };

  const retire = (name: string): void => {
    const card = cards.get(name);
    if (!card) return;
    card.retired = true;
    card.dirty = true;
    // Nothing will acknowledge what a retired topic held.
    releaseAcks(card);
    paintSource(card.source);
  };

  if (gapNotices) {
    context.onGap((gap) => {
      const card = cards.get(gap.topic);
      if (!card?.log) return;
      card.log.gap(gap.fromSeq, gap.toSeq, gap.dropped, Date.now());
      card.dirty = true;
      schedule();
    });
  }

  for (const info of context.topics) add(info);
  context.onTopics((change) => {
    for (const info of change.added) add(info);
    for (const name of change.removed) retire(name);
    schedule();
  });
  context.onConnection((connection: ConnectionInfo) => {
    for (const source of sources.values()) paintSource(source);
    root.dataset['socket'] = connection.socket;
  });

  charts.set(readCharts(location.search));
  schedule();

  return () => {
    if (frame !== 0) cancelAnimationFrame(frame);
    for (const card of cards.values()) {
      card.tree?.dispose();
      card.image?.dispose();
      for (const done of card.acks.splice(0)) done();
    }
    charts.dispose();
    root.remove();
  };
}
