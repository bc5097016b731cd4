/**
 * The page contract. A page is a browser ES module with a named export `page`, the value of
 * `definePage(...)`. The host (the webmon app) loads it, gives it an element and a context, and calls
 * the disposer it returns when the user leaves the page. Pages never open sockets themselves: the
 * context is their only way to napari, so every page gets the same origin checks, reconnects and
 * validated data.
 */
import type { FrameTime, JsonValue, LoadChunk, NapariMessage, Poll } from '@webmon/protocol';
import { PageError, PageErrorCode } from './errors.js';
import { pageMetadataProblem } from './rules.js';

/** Version of this contract; a host refuses pages made for another major version. */
export const PAGE_CONTRACT_VERSION = 1;

/** Payload types of the topics the webmon app publishes (validated by the host before delivery). */
export interface TopicPayloads {
  /** napari's `poll` entry: the layers' tile state, newest only. */
  'napari.layers': Poll;
  'napari.frame_time': FrameTime;
  'napari.load_chunk': LoadChunk;
  /** Any other napari message, as `{name: value}`. */
  'napari.messages': NapariMessage;
}
export type KnownTopic = keyof TopicPayloads;
/** The payload type of a topic: typed for the app's topics, `unknown` (validate it yourself) for others. */
export type PayloadOf<Topic extends string> = Topic extends KnownTopic ? TopicPayloads[Topic] : unknown;

export interface DataInfo {
  /** The topic's sequence number (per server session). */
  seq: number;
  /** Server time of publication, ms since the epoch. */
  time: number;
  /** True for values from the snapshot a subscriber gets on (re)subscribing: history, not news. */
  replayed: boolean;
}

/** napari as the server sees it: no napari yet, napari attached, or napari gone. */
export type SourceState = 'waiting' | 'connected' | 'disconnected';
/** The browser's socket to the server. */
export type SocketState = 'connecting' | 'open' | 'closed';

export interface ConnectionInfo {
  source: SourceState;
  socket: SocketState;
  /** A human-readable detail from the server (e.g. why napari disconnected). */
  message?: string;
}

export type Unsubscribe = () => void;

/** What a mounted page may do. Everything it registers is released by the host on unmount. */
export interface PageContext<Topics extends string = string> {
  /** Receives every value of a topic (first the snapshot: the latest value or the replay window). */
  subscribe<Topic extends Topics>(topic: Topic, onData: (payload: PayloadOf<Topic>, info: DataInfo) => void): Unsubscribe;
  /** Sends a command to napari (e.g. `command('show_grid', false)`); resolves on the server's ack. */
  command(name: string, args: JsonValue): Promise<JsonValue | undefined>;
  /** The connection state now. */
  readonly connection: ConnectionInfo;
  /** Called on every change of the connection state (not with the current one). */
  onConnection(listener: (connection: ConnectionInfo) => void): Unsubscribe;
  /** Aborted when the page is unmounted: pass it to fetch() or addEventListener(). */
  readonly signal: AbortSignal;
}

/** Undoes everything `mount` did. */
export type PageDisposer = () => void;

export interface PageDefinition<Topics extends readonly string[] = readonly string[]> {
  /** URL segment and key: lower-case letters, digits and dashes, starting with a letter. */
  readonly id: string;
  /** Navigation label. */
  readonly title: string;
  /** One line for the index page. */
  readonly description?: string;
  /** Topics the page subscribes to; `subscribe` only accepts these. */
  readonly topics: Topics;
  readonly mount: (element: HTMLElement, context: PageContext<Topics[number]>) => PageDisposer | void;
}

/** A definition checked and stamped by `definePage`. */
export type Page<Topics extends readonly string[] = readonly string[]> = PageDefinition<Topics> & {
  readonly contract: typeof PAGE_CONTRACT_VERSION;
};

/** Checks a page definition and freezes it. Throws `PageError` (`INVALID_PAGE`) naming the bad field. */
export function definePage<const Topics extends readonly string[]>(definition: PageDefinition<Topics>): Page<Topics> {
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
