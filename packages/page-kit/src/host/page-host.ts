/**
 * The page host: the side of the page contract that runs pages. It tracks the connection, gives each
 * mounted page a context scoped to its declared topics, and releases everything the page registered
 * when it is disposed. It does not own the relay client (inject it; close it yourself).
 *
 * A new session (a restarted server, or a replay that seeks) remounts every page in its element: what a
 * page built — chart history, counters, caches — belongs to the old session, and pages must not need to
 * know about sessions (nor about replay) to be right.
 */
import { checkPageMatchesManifest } from '../manifest.js';
import { pageFromModule, type ConnectionInfo, type Page, type SourceState, type Unsubscribe } from '../page.js';
import { ConnectionTracker } from './connection.js';
import { createPageContext } from './context.js';
import type { PageHostClient } from './types.js';

export interface PageHostOptions {
  /** The relay connection pages use (e.g. `createRelayClient({ url, token })` from `@webmon/relay/client`). */
  client: PageHostClient;
  /** An element that shows the source's state: `data-state`, `data-socket`, text and title. @default none */
  statusElement?: HTMLElement | null;
  /** Its text per source state. @default the state's name ('waiting', 'connected', 'disconnected') */
  statusText?: Partial<Record<SourceState, string>>;
  /** Names the data source: the status element's title while there is no detail. @default 'source' */
  sourceLabel?: string;
  /** Names the server in connection details ("<server> is not reachable"). @default 'the server' */
  serverLabel?: string;
}

/**
 * A page in an element; `dispose()` runs the page's disposer and releases its subscriptions. The handle
 * stays valid across the remounts of a new session.
 */
export interface MountedPage {
  readonly page: Page;
  dispose(): void;
}

/** Where a page's module is and which page it must define (a `HostManifestPage` fits). */
export interface PageModuleRef {
  id: string;
  title: string;
  module: string;
}

export interface PageHost {
  /** The connection state now. */
  readonly connection: ConnectionInfo;
  /** Called on every change of the connection state. */
  onConnection(listener: (connection: ConnectionInfo) => void): Unsubscribe;
  /** Mounts a checked page. If `mount` throws, what it registered is released and the error rethrown. */
  mountPage(page: Page, element: HTMLElement): MountedPage;
  /**
   * Imports a page module, checks it (contract, and the id its manifest promised) and mounts it. On
   * failure shows the error in `element` (`showPageError`) and resolves undefined.
   */
  loadPage(ref: PageModuleRef, element: HTMLElement): Promise<MountedPage | undefined>;
  /** Disposes every mounted page and stops listening to the client (which stays open). */
  dispose(): void;
}

export function createPageHost(options: PageHostOptions): PageHost {
  const { client } = options;
  const connection = new ConnectionTracker(client, options.statusElement ?? null, {
    statusText: { waiting: 'waiting', connected: 'connected', disconnected: 'disconnected', ...options.statusText },
    sourceLabel: options.sourceLabel ?? 'source',
    serverLabel: options.serverLabel ?? 'the server',
  });
  /** Each mounted page, with what remounts it. */
  const mounted = new Map<MountedPage, () => void>();

  /** Mounts `page` once; returns what stops that mount (its context aborted, its disposer run). Throws what `mount` throws. */
  function start(page: Page, element: HTMLElement): () => void {
    const controller = new AbortController();
    let dispose: (() => void) | void;
    try {
      dispose = page.mount(element, createPageContext(page, client, connection, controller.signal));
    } catch (error) {
      controller.abort();
      throw error;
    }
    return () => {
      controller.abort();
      try {
        dispose?.();
      } catch (error) {
        console.error(error);
      }
    };
  }

  function mountPage(page: Page, element: HTMLElement): MountedPage {
    let stop = start(page, element);
    const handle: MountedPage = {
      page,
      dispose() {
        if (!mounted.delete(handle)) return;
        stop();
      },
    };
    mounted.set(handle, () => {
      stop();
      element.replaceChildren();
      try {
        stop = start(page, element);
      } catch (error) {
        stop = () => undefined;
        showPageError(element, `The page “${page.title}” failed to start`, error);
      }
    });
    return handle;
  }

  // Synchronously, from the client's session listener: the client subscribes the new pages' topics as
  // part of the same hello, so each is subscribed once, with the new session's snapshot.
  const offSession = client.onSessionChange?.(() => {
    for (const remount of [...mounted.values()]) remount();
  });

  return {
    get connection() {
      return connection.info;
    },
    onConnection: (listener) => connection.onChange(listener),
    mountPage,
    async loadPage(ref, element) {
      let page: Page;
      try {
        page = pageFromModule(await import(/* @vite-ignore */ ref.module), `page ${ref.id}`);
        checkPageMatchesManifest(page, ref, `module ${ref.module}`);
      } catch (error) {
        showPageError(element, `The page “${ref.title}” could not be loaded`, error);
        return undefined;
      }
      try {
        return mountPage(page, element);
      } catch (error) {
        showPageError(element, `The page “${ref.title}” failed to start`, error);
        return undefined;
      }
    },
    dispose() {
      offSession?.();
      for (const page of [...mounted.keys()]) page.dispose();
      connection.dispose();
    },
  };
}

/** Replaces `element`'s content with an alert box: a title and the error (name, code, message). */
export function showPageError(element: HTMLElement, title: string, error: unknown): void {
  const box = document.createElement('div');
  box.className = 'page-error';
  box.setAttribute('role', 'alert');
  const heading = document.createElement('strong');
  heading.textContent = title;
  const detail = document.createElement('pre');
  detail.textContent = error instanceof Error ? `${error.name}${'code' in error ? ` [${String(error.code)}]` : ''}: ${error.message}` : String(error);
  box.append(heading, detail);
  element.replaceChildren(box);
}
