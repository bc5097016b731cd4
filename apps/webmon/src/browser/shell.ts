/**
 * The page host. One relay connection per tab; the page named by the manifest is imported, checked
 * against the page contract and mounted with a context that scopes its subscriptions, so unmounting
 * releases everything. The header shows napari's state on every page.
 */
import { napariPayloadValidators } from '@webmon/napari';
import { PageError, PageErrorCode, pageFromModule, topicAllowed, type ConnectionInfo, type DataInfo, type Page, type PageContext, type SocketState, type SourceState } from '@webmon/page-kit';
import { createRelayClient, type ConnectionState, type RelayClient } from '@webmon/relay/client';
import type { JsonValue, StatusMessage } from '@webmon/protocol';
import { readManifest, type Manifest } from './manifest.js';
import './webmon.css';

const STATE_TEXT: Record<SourceState, string> = {
  waiting: 'waiting for napari',
  connected: 'connected',
  disconnected: 'disconnected',
};

class ConnectionTracker {
  info: ConnectionInfo = { source: 'waiting', socket: 'connecting' };
  private everOpen = false;
  private readonly listeners = new Set<(info: ConnectionInfo) => void>();

  constructor(
    client: RelayClient,
    private readonly element: HTMLElement | null,
    private readonly sourceLabel: string,
  ) {
    client.onStateChange((state) => this.onSocket(state));
    client.onStatus((status) => this.onStatus(status));
    this.render();
  }

  onChange(listener: (info: ConnectionInfo) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private onSocket(state: ConnectionState): void {
    const socket: SocketState = state === 'open' ? 'open' : state === 'closed' ? 'closed' : 'connecting';
    if (socket === 'open') this.everOpen = true;
    // Without the server we cannot know napari's state: once the socket is lost, say so.
    const source: SourceState = socket === 'open' ? this.info.source : this.everOpen ? 'disconnected' : this.info.source;
    this.update({ ...this.info, socket, source, ...(socket === 'open' ? {} : { message: this.everOpen ? 'webmon is not reachable' : 'connecting to webmon' }) });
  }

  private onStatus(status: StatusMessage): void {
    const source: SourceState =
      status.code === 'source.connected' ? 'connected' : status.code === 'source.waiting' ? 'waiting' : 'disconnected';
    const message = status.code === 'server.closing' ? 'webmon stopped' : status.message;
    this.update({ ...this.info, source, ...(message === undefined ? {} : { message }) });
  }

  private update(info: ConnectionInfo): void {
    this.info = info;
    this.render();
    for (const listener of [...this.listeners]) listener(info);
  }

  private render(): void {
    if (!this.element) return;
    this.element.dataset['state'] = this.info.source;
    this.element.dataset['socket'] = this.info.socket;
    this.element.textContent = STATE_TEXT[this.info.source];
    this.element.title = this.info.message ?? this.sourceLabel;
  }
}

function contextFor(page: Page, client: RelayClient, connection: ConnectionTracker, controller: AbortController): PageContext {
  const cleanups: (() => void)[] = [];
  controller.signal.addEventListener('abort', () => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });
  return {
    subscribe(topic, onData) {
      if (!topicAllowed(page.topics, topic)) {
        throw new PageError(PageErrorCode.UNDECLARED_TOPIC, `page ${page.id} subscribed to ${topic}, which is not in its topics (${page.topics.join(', ')})`);
      }
      // Payloads of the app's topics are validated by the relay client before they get here.
      // Binary topics (e.g. napari.image) hand the page the decoded frame (`DecodedFrame`: dtype, shape,
      // meta, and `data` as a typed array over the received bytes) as their payload.
      const unsubscribe = client.subscribe(topic, (event) => {
        if (controller.signal.aborted) return;
        const info: DataInfo = { seq: event.seq, time: event.time, replayed: event.replay };
        (onData as (payload: unknown, info: DataInfo) => void)(event.kind === 'frame' ? event.frame : event.payload, info);
      });
      cleanups.push(unsubscribe);
      return unsubscribe;
    },
    command(name: string, args: JsonValue, options = {}) {
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
    get connection() {
      return connection.info;
    },
    onConnection(listener) {
      const off = connection.onChange(listener);
      cleanups.push(off);
      return off;
    },
    signal: controller.signal,
  };
}

function showError(element: HTMLElement, title: string, error: unknown): void {
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

async function start(): Promise<void> {
  const manifestElement = document.getElementById('webmon-manifest');
  const main = document.getElementById('webmon-page');
  if (!manifestElement || !main) return;
  let manifest: Manifest;
  try {
    manifest = readManifest(manifestElement.textContent ?? '');
  } catch (error) {
    showError(main, 'webmon could not start this page', error);
    return;
  }
  // A token is only needed when webmon listens beyond this machine; it travels in the URL fragment
  // (never sent to a server or written to a log) and is kept for the tab's other pages.
  const fragment = new URLSearchParams(location.hash.slice(1));
  const token = fragment.get('token') ?? sessionStorage.getItem('webmon.token') ?? undefined;
  if (fragment.has('token') && token) sessionStorage.setItem('webmon.token', token);

  const wsUrl = new URL(manifest.ws, location.href);
  wsUrl.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const client = createRelayClient({ url: wsUrl.href, payloadValidators: napariPayloadValidators, ...(token ? { token } : {}) });
  const connection = new ConnectionTracker(client, document.getElementById('webmon-status'), manifest.sourceLabel);
  window.addEventListener('pagehide', () => client.close(), { once: true });

  const current = manifest.pages.find((page) => page.id === manifest.current);
  if (!current) return; // the index: server-rendered, only the status is live
  let page: Page;
  try {
    page = pageFromModule(await import(/* @vite-ignore */ current.module), `page ${current.id}`);
    if (page.id !== current.id) throw new PageError(PageErrorCode.INVALID_PAGE, `module at ${current.module} defines page "${page.id}", expected "${current.id}"`);
  } catch (error) {
    showError(main, `The page “${current.title}” could not be loaded`, error);
    return;
  }
  const controller = new AbortController();
  let dispose: (() => void) | void;
  try {
    dispose = page.mount(main, contextFor(page, client, connection, controller));
  } catch (error) {
    controller.abort();
    showError(main, `The page “${current.title}” failed to start`, error);
    return;
  }
  window.addEventListener(
    'pagehide',
    () => {
      controller.abort();
      try {
        dispose?.();
      } catch (error) {
        console.error(error);
      }
    },
    { once: true },
  );
}

void start();
