/**
 * The sources webmon serves, composed: one napari bridge per napari manager (the one that launched us,
 * and any attached with `--connect`), each under its own topic prefix. Commands go back to the source
 * that owns the topic a page addressed.
 */
import { createNapariBridge, parseNapariClientConfig, type NapariAddress, type NapariBridge, type NapariBridgeCounters } from '@webmon/napari/node';
import { RelayCommandError, type CommandContext, type Relay } from '@webmon/relay';
import type { JsonValue } from '@webmon/protocol';
import { WebmonError, WebmonErrorCode } from './errors.js';
import type { Logger } from './logger.js';
import type { WebmonOptions } from './options.js';
import { CHART_HISTORY_MS, CHART_WINDOW_MS } from './shared/constants.js';

export interface SourceSpec {
  prefix: string;
  address: NapariAddress;
  /** The napari that launched webmon (`NAPARI_MON_CLIENT`): when it leaves, webmon leaves. */
  launcher: boolean;
  /** This manager's own authkey (a program attached under `webmon run`). @default options.authkey */
  authkey?: string;
  /** The attached program's pid, shown in `/api/status`. */
  pid?: number;
}

/** Reads `NAPARI_MON_CLIENT` into an address; its errors name the variable. */
export function addressFromClientConfig(encoded: string): NapariAddress {
  try {
    return { host: '127.0.0.1', port: parseNapariClientConfig(encoded).serverPort };
  } catch (error) {
    throw new WebmonError(WebmonErrorCode.BAD_CONFIG, (error as Error).message, { cause: error });
  }
}

export function sourceSpecs(options: WebmonOptions): SourceSpec[] {
  const { source } = options;
  if (source.kind === 'simulator' || source.kind === 'replay') return [];
  const launched = source.kind === 'napari-env' ? [{ prefix: source.prefix ?? 'napari', address: addressFromClientConfig(source.clientConfig), launcher: true }] : [];
  const attached = (source.kind === 'napari-env' ? source.extra : source.targets).map((target) => ({ prefix: target.prefix, address: { host: target.host, port: target.port }, launcher: false }));
  return [...launched, ...attached];
}

export class Sources {
  readonly bridges: NapariBridge[] = [];
  private readonly specs: SourceSpec[] = [];
  /** Resolves when webmon should exit: its launching napari left, or (attached by hand) every napari left. */
  readonly ended: Promise<void>;

  constructor(
    specs: readonly SourceSpec[],
    private readonly relay: Relay,
    private readonly options: WebmonOptions,
    private readonly logger: Logger,
  ) {
    const label = options.fromSimulator ? 'the napari simulator' : 'napari';
    for (const spec of specs) this.add(spec, specs.length > 1 ? `${label} (${spec.prefix})` : label);
    const launchers = this.bridges.filter((_bridge, index) => specs[index]?.launcher);
    const watched = launchers.length > 0 ? launchers : this.bridges;
    this.ended = Promise.all(watched.map((bridge) => bridge.ended)).then(() => undefined);
    relay.onCommand((name, args, context) => this.command(name, args, context));
  }

  private add(spec: SourceSpec, label: string): NapariBridge {
    const bridge = createNapariBridge({
      relay: this.relay,
      address: spec.address,
      prefix: spec.prefix,
      label,
      authkey: spec.authkey ?? this.options.authkey,
      stay: this.options.stay,
      ending: () => this.ending(bridge),
      pollIntervalMs: this.options.pollMs,
      replayMs: CHART_WINDOW_MS,
      latestReplayMs: CHART_HISTORY_MS,
      logger: this.logger,
    });
    this.specs.push(spec);
    this.bridges.push(bridge);
    return bridge;
  }

  /**
   * What webmon does when `bridge` ends (without `--stay`), for its log line: it exits with the napari that
   * launched it, or with the last of the sources attached by hand; under `webmon run` it serves until the
   * program it runs exits, whichever of the program's sources leaves.
   */
  private ending(bridge: NapariBridge): string {
    if (this.options.source.kind === 'run') return 'serving on until the program of this run exits';
    const launcher = this.specs.findIndex((spec) => spec.launcher);
    if (launcher >= 0) return this.bridges[launcher] === bridge ? 'exiting' : 'serving on while the napari that launched webmon runs';
    return this.bridges.some((other) => other !== bridge && other.state !== 'disconnected') ? 'serving the other sources on' : 'exiting';
  }

  /**
   * A program under `webmon run` asked to be served (`POST /api/sources`): a new source under `name`,
   * or `name2`, `name3`, … when a source (present or gone: gone ones stay listed) has it. Resolves with
   * the prefix once connected.
   */
  async attach(name: string, address: NapariAddress, authkey: string, pid: number | undefined): Promise<string> {
    const taken = new Set(this.specs.map((spec) => spec.prefix));
    let prefix = name;
    for (let n = 2; taken.has(prefix); n++) prefix = `${name.slice(0, 32 - String(n).length)}${n}`;
    const bridge = this.add({ prefix, address, launcher: false, authkey, ...(pid === undefined ? {} : { pid }) }, `program ${prefix}${pid === undefined ? '' : ` (pid ${pid})`}`);
    try {
      await bridge.start();
    } catch (error) {
      // Never reached: not a source to list as gone.
      const at = this.bridges.indexOf(bridge);
      this.bridges.splice(at, 1);
      this.specs.splice(at, 1);
      await bridge.close();
      throw error;
    }
    return prefix;
  }

  /** Connects every source; the first that cannot be reached (without `--stay`) fails the start. */
  async start(): Promise<void> {
    for (const [index, bridge] of this.bridges.entries()) {
      try {
        await bridge.start();
      } catch (error) {
        const { host, port } = bridge.target;
        const label = this.specs.length > 1 ? `napari (${this.specs[index]?.prefix})` : this.options.fromSimulator ? 'the napari simulator' : 'napari';
        throw new WebmonError(WebmonErrorCode.NAPARI_UNREACHABLE, `cannot reach ${label}'s manager at ${host}:${port}: ${(error as Error).message}`, { cause: error });
      }
    }
  }

  /** The napari a `--stay` webmon hands a restarted napari to: the launcher, else the only source. */
  get primary(): NapariBridge | undefined {
    return this.bridges.find((_bridge, index) => this.specs[index]?.launcher) ?? (this.bridges.length === 1 ? this.bridges[0] : undefined);
  }

  /**
   * The napari that launched webmon is gone although its manager may still answer (see
   * `parent-watch.ts`): its bridge ends as on napari's own shutdown (with `--stay`, it waits).
   */
  launcherGone(why: string): void {
    for (const [index, bridge] of this.bridges.entries()) if (this.specs[index]?.launcher) bridge.lost(why);
  }

  /** Counters of every source added up. */
  counters(): NapariBridgeCounters {
    const total: NapariBridgeCounters = { polls: 0, frameTimes: 0, loadChunks: 0, otherMessages: 0, dataValues: 0, invalid: 0, commands: 0, refusedCommands: 0 };
    for (const bridge of this.bridges) for (const key of Object.keys(total) as (keyof NapariBridgeCounters)[]) total[key] += bridge.counters[key];
    return total;
  }

  /** `napari connected`, or `napari connected · napari2 waiting` for several. */
  describe(): string {
    return this.bridges.map((bridge) => `${bridge.prefix} ${bridge.state}`).join(' · ');
  }

  status(): Record<string, unknown>[] {
    return this.bridges.map((bridge, index) => ({
      prefix: bridge.prefix,
      state: bridge.state,
      ...(this.specs[index]?.pid === undefined ? {} : { pid: this.specs[index]?.pid }),
      address: `${bridge.target.host}:${bridge.target.port}`,
      capabilities: bridge.capabilities,
      counters: bridge.counters,
      rings: bridge.ringStats,
    }));
  }

  /** Every source's rings by topic (topics carry the prefix, so they never collide). */
  rings(): Record<string, unknown> {
    return Object.assign({}, ...this.bridges.map((bridge) => bridge.ringStats)) as Record<string, unknown>;
  }

  async close(): Promise<void> {
    await Promise.all(this.bridges.map((bridge) => bridge.close()));
  }

  private command(name: string, args: JsonValue, context: CommandContext): Promise<undefined> {
    const owner = context.topic === undefined ? (this.bridges.length === 1 ? this.bridges[0] : undefined) : this.bridges.find((bridge) => bridge.owns(context.topic as string));
    if (owner === undefined) {
      const why = context.topic === undefined ? `several sources take commands (${this.bridges.map((bridge) => bridge.prefix).join(', ')}): name the topic the command is for` : `no source owns topic ${context.topic}`;
      throw new RelayCommandError('NO_PUBLISHER', why);
    }
    return owner.command(name, args);
  }
}
