/**
 * The page contract. A page is a browser ES module with a named export `page`, the value of
 * `definePage(...)`. The host (the webmon app) loads it, gives it an element and a context, and calls
 * the disposer it returns when the user leaves the page. Pages never open sockets themselves: the
 * context is their only way to the sources, so every page gets the same origin checks, reconnects and
 * validated data.
 */
import type { ArrayView, JsonValue, TopicInfo } from '@webmon/protocol';
import { PageError, PageErrorCode } from './errors.js';
import { pageMetadataProblem } from './rules.js';

/** Version of this contract; a host refuses pages made for another major version. */
export const PAGE_CONTRACT_VERSION = 1;

/**
 * Payload types by topic name, chosen by the page (a source package exports one):
 * `definePage<Payloads>()({...})` or a typed `PageContext<Topics, Payloads>`. Topics not in the map are
 * `unknown` (validate them yourself).
 */
export type TopicPayloadMap = object;
/** The payload type of a topic under a payload map. */
export type PayloadOf<Topic extends string, Payloads extends TopicPayloadMap = Record<never, never>> = Topic extends keyof Payloads ? Payloads[Topic] : unknown;

export interface DataInfo {
  /** The topic's sequence number (per server session). */
  seq: number;
  /** Server time of publication, ms since the epoch. */
  time: number;
  /** True for values from the snapshot a subscriber gets on (re)subscribing: history, not news. */
  replayed: boolean;
  /**
   * Holds the value's acknowledgement until the returned function is called (call `defer` while the
   * handler runs). The server sends a page at most a small window of each `latest` topic's values that it
   * has not handled yet, and keeps only the newest of the rest: the host acknowledges a value for you when
   * your handler returns (or the promise it returns settles); a page that draws later — on the next
   * animation frame — defers, so the server paces the topic by what is drawn:
   * `const done = info.defer(); requestAnimationFrame(() => { draw(); done(); })`. A `done` never called
   * stops that topic for the page. On topics that are not acknowledged it returns a function that does nothing.
   */
  defer(): () => void;
}

/** The data source as the server sees it: not there yet, attached, or gone. */
export type SourceState = 'waiting' | 'connected' | 'disconnected';
/** The browser's socket to the server. */
export type SocketState = 'connecting' | 'open' | 'closed';

export interface ConnectionInfo {
  /** The source's state; with several sources, the worst of them (disconnected, then waiting). */
  source: SourceState;
  socket: SocketState;
  /** Each source's state by its name (the server's `status.source`), when the server names them. */
  sources?: Readonly<Record<string, SourceState>>;
  /** A human-readable detail from the server (e.g. why the source disconnected). */
  message?: string;
}

export type Unsubscribe = () => void;

export interface SubscribeOptions {
  /**
   * (Protocol 1.3) Binary array topics: the view the page will draw — at most `maxShape` `[rows, cols]`
   * (its canvas in device pixels), `region` of the source (zoomed in), `dtype` — so the server sends the
   * array at that size instead of whole. Each frame says in `frame.view` which view it is and how it maps
   * onto the source; a server before 1.3 sends whole frames (no `frame.view`). Change it with `setView`.
   */
  view?: ArrayView;
  /**
   * Binary topics: `onData` only borrows each frame. The page keeps nothing of `frame.data`'s buffer once
   * `onData` is done with it (returned, its promise settled, every `info.defer()` called). The host's client
   * may then take the buffer back (the relay client gives it back to its bulk worker), and `frame.data` is
   * detached from that moment. That keeps freeing megabytes of frames off the page's main thread, where small
   * messages would wait behind it. Copy what you keep. @default false
   */
  borrowFrames?: boolean;
}

export interface CommandOptions {
  /** The topic whose source should run the command (needed when several sources take commands). */
  topic?: string;
}

/** Messages of a `stream` topic the server dropped for this page (it read too slowly): they never come. */
export interface GapInfo {
  topic: string;
  /** How many messages were dropped. */
  dropped: number;
  /** The first and last dropped sequence numbers. */
  fromSeq: number;
  toSeq: number;
}

/** The server's topics changed (declared or retired while it runs). */
export interface TopicsChange {
  added: readonly TopicInfo[];
  removed: readonly string[];
  /** Every topic after the change. */
  topics: readonly TopicInfo[];
}

/** What a mounted page may do. Everything it registers is released by the host on unmount. */
export interface PageContext<Topics extends string = string, Payloads extends TopicPayloadMap = Record<never, never>> {
  /**
   * Receives every value of a topic (first the snapshot: the latest value or the replay window). A topic
   * the server has not announced yet is subscribed as soon as it is. Values of `latest` topics are
   * acknowledged when `onData` returns, or when the promise it returns settles, or when a `done` from
   * `info.defer()` is called (see `DataInfo.defer`).
   */
  subscribe<Topic extends Topics>(topic: Topic, onData: (payload: PayloadOf<Topic, Payloads>, info: DataInfo) => unknown, options?: SubscribeOptions): Unsubscribe;
  /**
   * (Protocol 1.3) Changes the array view of a subscribed binary topic (`undefined`: whole frames), e.g.
   * after a zoom: the server sends the newest value again in it. Resolves when the server took it (or at
   * once when it cannot take views); rejects when it refused it (`code` `BAD_VIEW`, `RATE_LIMITED`).
   */
  setView<Topic extends Topics>(topic: Topic, view: ArrayView | undefined): Promise<void>;
  /** Sends a command to the source behind `options.topic` (or the only one); resolves on the server's ack. */
  command(name: string, args: JsonValue, options?: CommandOptions): Promise<JsonValue | undefined>;
  /** The topics the server announces now. */
  readonly topics: readonly TopicInfo[];
  /**
   * Called whenever topics are declared or retired, and on every (re)connection with the server's whole
   * list as `added` (plus, after a reconnect, the topics that are gone as `removed`).
   */
  onTopics(listener: (change: TopicsChange) => void): Unsubscribe;
  /**
   * Called when the server dropped messages of a `stream` topic this page subscribed to, before the
   * messages that follow them. A host whose client cannot say (no `onGap`) never calls it.
   */
  onGap(listener: (gap: GapInfo) => void): Unsubscribe;
  /** The connection state now. */
  readonly connection: ConnectionInfo;
  /** Called on every change of the connection state (not with the current one). */
  onConnection(listener: (connection: ConnectionInfo) => void): Unsubscribe;
  /** Aborted when the page is unmounted: pass it to fetch() or addEventListener(). */
  readonly signal: AbortSignal;
}

/** Undoes everything `mount` did. */
export type PageDisposer = () => void;

export interface PageDefinition<Topics extends readonly string[] = readonly string[], Payloads extends TopicPayloadMap = Record<never, never>> {
  /** URL segment and key: lower-case letters, digits and dashes, starting with a letter. */
  readonly id: string;
  /** Navigation label. */
  readonly title: string;
  /** One line for the index page. */
  readonly description?: string;
  /**
   * Topics the page subscribes to; `subscribe` only accepts these. A name ending in `*` stands for every
   * topic that starts with what comes before it (`'*'` alone: every topic, for pages that show whatever
   * arrives).
   */
  readonly topics: Topics;
  readonly mount: (element: HTMLElement, context: PageContext<TopicsOf<Topics>, Payloads>) => PageDisposer | void;
}

/** The topic names a page may subscribe to: its list, with patterns widened to any string. */
export type TopicsOf<Topics extends readonly string[]> = Topics[number] extends infer Name ? (Name extends `${string}*` ? string : Name & string) : never;

/** A definition checked and stamped by `definePage`. */
export type Page<Topics extends readonly string[] = readonly string[], Payloads extends TopicPayloadMap = Record<never, never>> = PageDefinition<Topics, Payloads> & {
  readonly contract: typeof PAGE_CONTRACT_VERSION;
};

/** True when a page that declared `declared` may subscribe to `topic` (exact name, or a `prefix*` pattern). */
export function topicAllowed(declared: readonly string[], topic: string): boolean {
  for (const entry of declared) {
    if (entry === topic) return true;
    if (entry.endsWith('*') && topic.startsWith(entry.slice(0, -1))) return true;
  }
  return false;
}

/**
 * Checks a page definition and freezes it. Throws `PageError` (`INVALID_PAGE`) naming the bad field.
 * For typed payloads, name the map first: `definePageFor<MyPayloads>()({...})`.
 */
export function definePage<const Topics extends readonly string[], Payloads extends TopicPayloadMap = Record<never, never>>(
  definition: PageDefinition<Topics, Payloads>,
): Page<Topics, Payloads> {
  const bad = (field: string, message: string): never => {
    throw new PageError(PageErrorCode.INVALID_PAGE, `invalid page ${JSON.stringify(String(definition?.id))}: ${field} ${message}`);
  };
  if (typeof definition !== 'object' || definition === null) bad('definition', 'must be an object');
  const { id, title, description, topics, mount } = definition;
  const problem = pageMetadataProblem(definition);
  if (problem) bad(problem.field, problem.message);
  if (typeof mount !== 'function') bad('mount', 'must be a function (element, context) => disposer');
  return Object.freeze({
    id,
    title,
    ...(description === undefined ? {} : { description }),
    topics: Object.freeze([...topics]) as unknown as Topics,
    mount,
    contract: PAGE_CONTRACT_VERSION,
  });
}

/**
 * `definePage` with a payload map, so `subscribe` hands typed payloads to the page:
 * `export const page = definePageFor<MyPayloads>()({ id, title, topics, mount })`.
 * (Curried because TypeScript cannot infer the topics while the map is named explicitly.)
 */
export function definePageFor<Payloads extends TopicPayloadMap>(): <const Topics extends readonly string[]>(definition: PageDefinition<Topics, Payloads>) => Page<Topics, Payloads> {
  return (definition) => definePage(definition);
}

/**
 * For hosts: the page a loaded module exports (`export const page = definePage(...)`). Throws
 * `PageError` (`NOT_A_PAGE_MODULE`, `CONTRACT_MISMATCH` or `INVALID_PAGE`).
 */
export function pageFromModule(module: unknown, source = 'module'): Page {
  const exported = typeof module === 'object' && module !== null ? (module as { page?: unknown }).page : undefined;
  if (typeof exported !== 'object' || exported === null) {
    throw new PageError(PageErrorCode.NOT_A_PAGE_MODULE, `${source} has no \`page\` export (export const page = definePage(...))`);
  }
  const contract = (exported as { contract?: unknown }).contract;
  if (contract !== PAGE_CONTRACT_VERSION) {
    throw new PageError(PageErrorCode.CONTRACT_MISMATCH, `${source} was made for page contract ${String(contract)}, this host speaks ${PAGE_CONTRACT_VERSION}`);
  }
  return definePage(exported as PageDefinition) as Page;
}
