/**
 * The connection state a page sees, from the relay client's socket state and the server's status
 * messages, mirrored onto an optional status element (`data-state`, `data-socket`, text, title).
 */
import type { StatusMessage } from '@webmon/protocol';
import type { ConnectionState } from '@webmon/relay/client';
import type { ConnectionInfo, SocketState, SourceState } from '../page.js';
import type { PageHostClient } from './types.js';

export interface ConnectionLabels {
  /** Status element text per source state. */
  statusText: Record<SourceState, string>;
  /** The status element's title when there is no detail (names the source). */
  sourceLabel: string;
  /** Names the server in the details ("<server> is not reachable"). */
  serverLabel: string;
}

export class ConnectionTracker {
  info: ConnectionInfo = { source: 'waiting', socket: 'connecting' };
  private everOpen = false;
  /** The last status of each source the server reported (keyed by the status's `source`). */
  private readonly sources = new Map<string, { state: SourceState; message: string | undefined }>();
  private readonly listeners = new Set<(info: ConnectionInfo) => void>();
  private readonly offs: (() => void)[];

  constructor(
    client: PageHostClient,
    private readonly element: HTMLElement | null,
    private readonly labels: ConnectionLabels,
  ) {
    this.offs = [client.onStateChange((state) => this.onSocket(state)), client.onStatus((status) => this.onStatus(status))];
    this.render();
  }

  onChange(listener: (info: ConnectionInfo) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  dispose(): void {
    for (const off of this.offs.splice(0)) off();
    this.listeners.clear();
  }

  private onSocket(state: ConnectionState): void {
    const socket: SocketState = state === 'open' ? 'open' : state === 'closed' ? 'closed' : 'connecting';
    if (socket === 'open') this.everOpen = true;
    // Without the server we cannot know the source's state: once the socket is lost, say so.
    const source: SourceState = socket === 'open' ? this.info.source : this.everOpen ? 'disconnected' : this.info.source;
    const { serverLabel } = this.labels;
    this.update({ ...this.info, socket, source, ...(socket === 'open' ? {} : { message: this.everOpen ? `${serverLabel} is not reachable` : `connecting to ${serverLabel}` }) });
  }

  private onStatus(status: StatusMessage): void {
    if (status.code === 'server.closing') {
      this.sources.clear();
      this.update({ ...this.info, source: 'disconnected', message: `${this.labels.serverLabel} stopped` });
      return;
    }
    const state: SourceState = status.code === 'source.connected' ? 'connected' : status.code === 'source.waiting' ? 'waiting' : 'disconnected';
    this.sources.set(status.source ?? '', { state, message: status.message });
    // Several sources (two windows of one program, say): the page sees the worst state, and which source it is.
    const worst = (['disconnected', 'waiting', 'connected'] as const).find((candidate) => [...this.sources.values()].some((entry) => entry.state === candidate)) ?? state;
    const [name, entry] = [...this.sources.entries()].find(([, value]) => value.state === worst) ?? ['', { state, message: status.message }];
    const message = this.sources.size > 1 && name !== '' && entry.message !== undefined ? `${name}: ${entry.message}` : entry.message;
    const named = [...this.sources.keys()].some((key) => key !== '');
    const sources = named ? { sources: Object.fromEntries([...this.sources.entries()].map(([key, value]) => [key, value.state])) } : {};
    this.update({ ...this.info, source: worst, ...sources, ...(message === undefined ? {} : { message }) });
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
    this.element.textContent = this.labels.statusText[this.info.source];
    this.element.title = this.info.message ?? this.labels.sourceLabel;
  }
}
