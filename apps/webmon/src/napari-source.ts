/**
 * napari → relay. napari's `poll` becomes the `latest` topic `napari.layers`; its messages become
 * the `stream` topics `napari.frame_time`, `napari.load_chunk` and, for any other kind, a topic of its
 * own (`napari.message.<kind>`), declared the first time the kind appears; page commands go to
 * napari's `client_messages`. The relay's status tells pages whether napari is there.
 */
import { NapariTopics, napariTopicNames, type NapariEvent, type Poll } from '@webmon/napari';
import { isProtocolError } from '@webmon/protocol';
import { CHART_WINDOW_MS } from './shared/constants.js';
import { RelayCommandError, type Relay } from '@webmon/relay';
import { NapariClient, parseNapariClientConfig, type ShutdownInfo } from '@webmon/shm-reader/napari';
import { WebmonError, WebmonErrorCode } from './errors.js';
import type { Logger } from './logger.js';

export interface NapariAddress {
  host: string;
  port: number;
}

export interface NapariSourceOptions {
  relay: Relay;
  logger: Logger;
  address: NapariAddress;
  authkey: string;
  pollMs: number;
  /** Keep retrying after napari goes away (and before it first comes). */
  stay: boolean;
  /** "napari" or "the napari simulator", for messages. */
  label: string;
}

export type NapariState = 'waiting' | 'connected' | 'disconnected';

/** Counters since start; the status line turns them into rates. */
export interface NapariCounters {
  polls: number;
  frameTimes: number;
  loadChunks: number;
  otherMessages: number;
  invalid: number;
  commands: number;
}

const NAMES = napariTopicNames();
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 5_000;

/** Reads `NAPARI_MON_CLIENT` into an address; its errors name the variable. */
export function addressFromClientConfig(encoded: string): NapariAddress {
  try {
    return { host: '127.0.0.1', port: parseNapariClientConfig(encoded).serverPort };
  } catch (error) {
    throw new WebmonError(WebmonErrorCode.BAD_CONFIG, (error as Error).message, { cause: error });
  }
}

export class NapariSource {
  state: NapariState = 'waiting';
  readonly counters: NapariCounters = { polls: 0, frameTimes: 0, loadChunks: 0, otherMessages: 0, invalid: 0, commands: 0 };
  private client: NapariClient | undefined;
  private address: NapariAddress;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = RETRY_MIN_MS;
  private lastInvalidLog = 0;
  private endedResolve!: (info: ShutdownInfo) => void;
  /** Resolves when napari has gone and webmon should exit (never with `stay`). */
  readonly ended: Promise<ShutdownInfo>;

  constructor(private readonly options: NapariSourceOptions) {
    this.address = options.address;
    this.ended = new Promise((resolve) => (this.endedResolve = resolve));
    options.relay.setStatus('source.waiting', { source: 'napari', message: `waiting for ${options.label}` });
    options.relay.onCommand((name, args) => this.command(name, args));
  }

  get target(): NapariAddress {
    return this.address;
  }

  /**
   * Connects. Without `stay`, a failed first connection throws `NAPARI_UNREACHABLE`; with it, webmon
   * keeps waiting and retrying.
   */
  async start(): Promise<void> {
    try {
      await this.connect();
    } catch (error) {
      if (!this.options.stay) {
        throw new WebmonError(
          WebmonErrorCode.NAPARI_UNREACHABLE,
          `cannot reach ${this.options.label}'s manager at ${this.address.host}:${this.address.port}: ${(error as Error).message}`,
          { cause: error },
        );
      }
      this.options.logger.warn(`${this.options.label} is not reachable at ${this.address.host}:${this.address.port} (${(error as Error).message}); retrying`);
      this.scheduleRetry();
    }
  }

  /** Points a waiting (`--stay`) webmon at another manager, e.g. a napari that restarted on a new port. */
  retarget(address: NapariAddress): void {
    this.address = address;
    if (this.client === undefined && !this.stopped) {
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryDelay = RETRY_MIN_MS;
      this.scheduleRetry(0);
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.options.relay.onCommand(undefined);
    const client = this.client;
    this.client = undefined;
    await client?.close();
  }

  private async connect(): Promise<void> {
    const { host, port } = this.address;
    const client = await NapariClient.connect({ host, port, authkey: this.options.authkey, pollIntervalMs: this.options.pollMs, connectTimeoutMs: 5_000 });
    if (this.stopped) {
      await client.close();
      return;
    }
    this.client = client;
    this.retryDelay = RETRY_MIN_MS;
    const { relay, logger, label } = this.options;
    client.on('poll', (poll: Poll) => {
      this.counters.polls++;
      relay.publish(NapariTopics.layers.name, poll);
    });
    client.on('message', (event: NapariEvent) => this.publishEvent(event));
    client.on('invalid', (invalid) => {
      this.counters.invalid++;
      // A misbehaving peer can send garbage at 60 Hz: say so, but at most every 5 s.
      const now = Date.now();
      if (now - this.lastInvalidLog > 5_000) {
        this.lastInvalidLog = now;
        logger.warn(`ignored an invalid ${invalid.source} from ${label}: ${invalid.error.message} (${this.counters.invalid} so far)`);
      }
    });
    client.on('shutdown', (info) => this.onShutdown(client, info));
    this.state = 'connected';
    relay.setStatus('source.connected', { source: 'napari', message: `${label} at ${host}:${port}` });
    logger.info(`connected to ${label} at ${host}:${port}`);
  }

  private publishEvent(event: NapariEvent): void {
    const { relay } = this.options;
    switch (event.kind) {
      case 'frame_time':
        this.counters.frameTimes++;
        relay.publish(NapariTopics.frameTime.name, event.data);
        break;
      case 'load_chunk':
        this.counters.loadChunks++;
        relay.publish(NapariTopics.loadChunk.name, event.data);
        break;
      case 'unknown': {
        this.counters.otherMessages++;
        const topic = NAMES.message(event.name);
        relay.declareTopic({ name: topic, mode: 'stream', replayMs: CHART_WINDOW_MS });
        relay.publish(topic, event.value);
        break;
      }
    }
  }

  private onShutdown(client: NapariClient, info: ShutdownInfo): void {
    if (this.client !== client) return;
    this.client = undefined;
    if (this.stopped) return;
    const why =
      info.reason === 'napari' ? `${this.options.label} shut down` : info.reason === 'connection-lost' ? `lost ${this.options.label} (${info.error?.message ?? 'connection closed'})` : `${this.options.label} stopped (${info.reason})`;
    this.state = 'disconnected';
    this.options.relay.setStatus('source.disconnected', { source: 'napari', message: why });
    if (this.options.stay) {
      this.options.logger.info(`${why}; --stay: serving on and waiting for napari to come back`);
      this.scheduleRetry();
    } else {
      this.options.logger.info(`${why}; exiting`);
      this.endedResolve(info);
    }
  }

  private scheduleRetry(delay = this.retryDelay): void {
    if (this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect().catch((error: unknown) => {
        this.options.logger.debug(`retry ${this.address.host}:${this.address.port}: ${(error as Error).message}`);
        this.retryDelay = Math.min(RETRY_MAX_MS, this.retryDelay * 2);
        this.scheduleRetry();
      });
    }, delay);
    this.retryTimer.unref();
  }

  private async command(name: string, args: unknown): Promise<undefined> {
    const client = this.client;
    if (client === undefined || !client.isRunning) {
      throw new RelayCommandError('NO_PUBLISHER', `${this.options.label} is not connected`);
    }
    try {
      await client.sendCommand(name, args);
    } catch (error) {
      if (isProtocolError(error)) throw new RelayCommandError('BAD_COMMAND_ARGS', error.message, { cause: error });
      throw new RelayCommandError('COMMAND_FAILED', `could not pass ${name} to ${this.options.label}: ${(error as Error).message}`, { cause: error });
    }
    this.counters.commands++;
    this.options.logger.debug(`command ${name} ${JSON.stringify(args)} → ${this.options.label}`);
    return undefined;
  }
}
