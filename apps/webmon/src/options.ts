/**
 * Command line and config file → one validated options object. CLI values win over the config file;
 * `--page` adds to the config's `pages`. The config is `--config <file>` or the user's own
 * (`userConfigPath`), never one found in the working directory: napari launches webmon in napari's
 * working directory, and a file there must not choose the listen address or a program to run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { WebmonError, WebmonErrorCode } from './errors.js';

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A napari manager attached by hand, and the topic prefix its data goes under. */
export interface ConnectTarget {
  prefix: string;
  host: string;
  port: number;
}

/** Where napari's data comes from. */
export type SourceMode =
  /** Launched by napari: `NAPARI_MON_CLIENT` names the manager port (prefix `napari`); `--connect` adds more. */
  | { kind: 'napari-env'; clientConfig: string; extra: ConnectTarget[]; /** `WEBMON_SOURCE_NAME` (the Python module's `name`). @default 'napari' */ prefix?: string }
  /** `--connect [prefix=]host:port` (repeatable): attach to running napari managers by hand. */
  | { kind: 'connect'; targets: ConnectTarget[] }
  /** Neither: start the built-in simulator, which launches webmon as its client. */
  | { kind: 'simulator' }
  /**
   * `webmon run [options] -- COMMAND…`: run a program with the `webmon` Python module importable; each
   * `monitor.start()` in it (or its children) attaches as a source. `--connect` targets are served too.
   */
  | { kind: 'run'; command: string[]; targets: ConnectTarget[] }
  /** `webmon replay <file.mcap>`: serve the pages from a recording, with a timeline (absolute path). */
  | { kind: 'replay'; file: string };

export interface WebmonOptions {
  port: number;
  host: string;
  open: boolean;
  stay: boolean;
  /** Page packages to load, in navigation order after the built-in pages. */
  pages: string[];
  /** Directories page packages are resolved from (the config file's directory, then the working directory). */
  pageSearchPaths: string[];
  authkey: string;
  logLevel: LogLevel;
  /** Pause between reads of napari's `poll` value. */
  pollMs: number;
  /** Python for the simulator (else `WEBMON_PYTHON`, `python3`, `python`). */
  python: string | undefined;
  source: SourceMode;
  /** Set when the simulator launched us: napari is simulated (affects wording only). */
  fromSimulator: boolean;
  /** What the built-in simulator behaves as: napari 0.4 (octree, show_grid) or 0.5+ (frame_time only, no commands). */
  simulate: SimulatedNapari;
  /** Seconds after which the simulator acts like a plugin (`add_data`, `send_message`), if set. */
  simulatePluginAfter: number | undefined;
  /** Edge length of the simulator's live image (float32, through a ring). */
  simulateImage: number;
  /** The config file read, if any. */
  configPath: string | undefined;
  /**
   * What the config file set that reaches beyond this process, when the command line did not override
   * it: a listen address, a program to run. The app says so on stderr.
   */
  configSettings: { host: string | undefined; python: string | undefined };
  /** `--record <file>` or `webmon record <file>`: record every topic to this MCAP file (absolute path). */
  record: string | undefined;
  /** `webmon record <file>`: record only, no HTTP server. */
  headless: boolean;
  /** Bytes the flight recorder keeps in memory (`POST /api/recording`); 0 turns it off. */
  flightRecorderBytes: number;
  /** Most `foxglove.RawImage` messages per second per image topic in recordings (--record and saves); 0: none. */
  recordRawImageHz: number;
  /** The arguments as given, so the simulator can launch webmon with the same ones. */
  argv: string[];
}

export const SIMULATED_NAPARI = ['0.4', '0.5'] as const;
export type SimulatedNapari = (typeof SIMULATED_NAPARI)[number];

export type ParsedCommand = { kind: 'help' } | { kind: 'version' } | { kind: 'python-path' } | { kind: 'run'; options: WebmonOptions };

export const DEFAULTS = {
  port: 5000,
  host: '127.0.0.1',
  authkey: 'napari',
  logLevel: 'info' as LogLevel,
  pollMs: 4,
  flightRecorderBytes: 256 * 2 ** 20,
  recordRawImageHz: 5,
} as const;

export const HELP = `Usage: webmon [options]
       webmon run [options] -- COMMAND [ARG...]
       webmon python-path
       webmon record <file.mcap> [options]    record every topic, serve no pages
       webmon replay <file.mcap> [options]    serve the pages from a recording

Serves live pages of a running napari (its experimental monitor, NAPARI_MON: napari 0.4.3 and
later; 0.5+ sends frame times and whatever plugins add, 0.4 also octree tiles) in the browser.
Launched by napari it reads NAPARI_MON_CLIENT and exits when napari does. Started by hand with
no napari it runs the built-in napari simulator (needs Python >= 3.8).

  webmon run: runs COMMAND (a Python program using the webmon module: from webmon import
  monitor; monitor.start()) with the module importable (PYTHONPATH), serves what it shares, and
  exits with its exit status (128+n when a signal ended it). Several programs (COMMAND's children
  too) may attach; each is a source with its own topic prefix (name= or the script's name).
  webmon python-path: prints the folder to put on PYTHONPATH for programs started another way.
  webmon replay: serves the same pages from an MCAP recording (--record, webmon record, a page's
  Save button), with a timeline in the page header: play, pause, speed, step, drag to seek.
  It waits, paused at the start, until the first page opens, then plays at x1.
  Commands from pages are refused (NOT_LIVE). A file cut off by a crash replays up to the cut.

Options:
  -p, --port <n>         HTTP port, 0 picks a free one               (default ${DEFAULTS.port})
      --host <addr>      address to listen on                        (default ${DEFAULTS.host})
      --open             open the index page in the default browser
  -c, --config <file>    JSON config file                            (default the user's, below)
      --page <package>   load a page package (repeatable)
      --connect <[p=]h:p> attach to a running napari manager at host:port (repeatable: one
                         webmon for several napari windows; topics go under prefix p,
                         default napari, napari2, napari3, ...)
      --authkey <key>    napari manager's authkey                    (default ${DEFAULTS.authkey})
      --stay             keep serving when napari quits; reconnect when it is back
      --poll-ms <n>      pause between reads of napari_data          (default ${DEFAULTS.pollMs})
      --python <path>    Python for the simulator                    (default $WEBMON_PYTHON, python3, python)
      --simulate <v>     the simulator behaves as napari 0.4 (octree tiles, show_grid) or
                         0.5 (0.5-0.9: frame_time only, no commands)  (default 0.4)
      --simulate-plugin <s>  after s seconds the simulator also adds plugin data (add_data)
                         and messages (send_message), as a napari plugin would
      --simulate-image <n>  edge of the simulator's live image, 16-8192  (default 1024)
      --record <file>    also record every topic to this MCAP file while serving
      --flight-recorder-bytes <n>  memory for the last minutes of every topic, saved
                         with POST /api/recording or a page's "Save" button; K, M, G
                         suffixes (MiB); 0 turns it off               (default 256M)
      --record-raw-image-hz <n>  Foxglove RawImage copies of each image topic per second
                         in recordings and saves (the binary channel keeps every frame);
                         0: none; above the source's rate: every frame  (default ${DEFAULTS.recordRawImageHz})
      --log-level <l>    error | warn | info | debug                 (default ${DEFAULTS.logLevel})
  -q, --quiet            same as --log-level warn
  -h, --help             show this help
  -v, --version          print the version

Config file keys: port, host, open, stay, pages, authkey, pollMs, python, logLevel.
Without --config: webmon/config.json in $XDG_CONFIG_HOME or ~/.config (macOS: ~/Library/Application
Support, Windows: %APPDATA%), if present. A config in the working directory is never read by itself.

Examples:
  webmon                         the built-in napari simulator, served at http://127.0.0.1:5000/
  webmon --simulate 0.5 -p 0     the simulator as napari 0.5-0.9, on a free port
  webmon --connect 41263         attach to a running napari: its manager port (napari's monitor
                                 log names it: "Listening on port 41263")
  webmon --connect left=41263 --connect right=41517
                                 two napari windows in one webmon (topics left.*, right.*)
  webmon --page @webmon/page-stats --open
                                 add a page package installed here, and open the browser
  webmon --host 0.0.0.0 -p 8080  serve to other machines (the printed URL carries a token)
  webmon run -p 0 -- python3 train.py
                                 run train.py and show what its monitor shares
  PYTHONPATH=$(webmon python-path) jupyter lab
                                 make "from webmon import monitor" work in a notebook
  webmon --record run.mcap       serve and record everything to run.mcap (opens in Foxglove)
  webmon replay run.mcap         serve the pages from run.mcap, with a timeline
  webmon record run.mcap --connect 41263
                                 record a running napari without serving pages (Ctrl-C ends it)

  Serve a napari: napari starts webmon itself from the file NAPARI_MON names, e.g. ~/.napari-mon:
    {"clients": [["webmon"]], "log_path": "/tmp/napari-monitor.log"}
  (options go after "webmon": [["webmon", "--port", "5001"]]), then:
    NAPARI_MON=~/.napari-mon NAPARI_OCTREE=1 napari image.tif    napari 0.4.3-0.4.19 (octree)
    NAPARI_MON=~/.napari-mon napari                              napari 0.5 and later
`;

const ConfigKeys = ['port', 'host', 'open', 'stay', 'pages', 'authkey', 'pollMs', 'python', 'logLevel'] as const;
type ConfigFile = Partial<{
  port: number;
  host: string;
  open: boolean;
  stay: boolean;
  pages: string[];
  authkey: string;
  pollMs: number;
  python: string;
  logLevel: LogLevel;
}>;

export function parseCommand(argv: string[], env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): ParsedCommand {
  if (argv[0] === 'python-path') {
    if (argv.length > 1) throw new WebmonError(WebmonErrorCode.BAD_ARGUMENT, `webmon python-path takes no arguments, got ${JSON.stringify(argv[1])}`);
    return { kind: 'python-path' };
  }
  let program: string[] | undefined;
  if (argv[0] === 'run') {
    const dashes = argv.indexOf('--');
    program = dashes < 0 ? [] : argv.slice(dashes + 1);
    const help = (dashes < 0 ? argv : argv.slice(0, dashes)).some((arg) => arg === '-h' || arg === '--help');
    if (program.length === 0 && !help) {
      throw new WebmonError(WebmonErrorCode.BAD_ARGUMENT, 'webmon run needs the program after --: webmon run [options] -- python3 script.py');
    }
    argv = argv.slice(1, dashes < 0 ? undefined : dashes);
  }
  let parsed: ReturnType<typeof parseWithNode>;
  try {
    parsed = parseWithNode(argv);
  } catch (error) {
    // The command adds the hint to --help.
    throw new WebmonError(WebmonErrorCode.BAD_ARGUMENT, describeParseError(error), { cause: error });
  }
  const values = parsed.values;
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  const replayFile = parseReplayCommand(parsed.positionals, values.record, cwd);
  const { record, headless } = replayFile === undefined ? parseRecordCommand(parsed.positionals, values.record, cwd) : { record: undefined, headless: false };
  const flightRecorderBytes = values['flight-recorder-bytes'] === undefined ? DEFAULTS.flightRecorderBytes : parseBytes(values['flight-recorder-bytes'], '--flight-recorder-bytes');
  const recordRawImageHz = values['record-raw-image-hz'] === undefined ? DEFAULTS.recordRawImageHz : parseNumber(values['record-raw-image-hz'], '--record-raw-image-hz', 0, 100_000);

  const configPath = values.config !== undefined ? resolve(cwd, values.config) : defaultConfig(env);
  const config = configPath === undefined ? {} : readConfig(configPath);

  const port = values.port !== undefined ? parsePort(values.port, '--port') : (config.port ?? DEFAULTS.port);
  const host = values.host ?? config.host ?? DEFAULTS.host;
  if (host.trim() === '') throw new WebmonError(WebmonErrorCode.BAD_ARGUMENT, '--host must not be empty');
  const logLevel = values.quiet ? 'warn' : values['log-level'] !== undefined ? parseLogLevel(values['log-level'], '--log-level') : (config.logLevel ?? DEFAULTS.logLevel);
  const pollMs = values['poll-ms'] !== undefined ? parseNumber(values['poll-ms'], '--poll-ms', 0, 1000) : (config.pollMs ?? DEFAULTS.pollMs);
  const pages = [...(config.pages ?? []), ...(values.page ?? [])];

  const simulate = values.simulate ?? '0.4';
  if (!(SIMULATED_NAPARI as readonly string[]).includes(simulate)) {
    throw new WebmonError(WebmonErrorCode.BAD_ARGUMENT, `--simulate must be one of ${SIMULATED_NAPARI.join(', ')}, got ${JSON.stringify(simulate)}`);
  }
  const simulatePluginAfter = values['simulate-plugin'] === undefined ? undefined : parseNumber(values['simulate-plugin'], '--simulate-plugin', 0, 86_400);
  const simulateImage = values['simulate-image'] === undefined ? 1024 : parseNumber(values['simulate-image'], '--simulate-image', 16, 8192);
  if (!Number.isInteger(simulateImage)) throw new WebmonError(WebmonErrorCode.BAD_ARGUMENT, `--simulate-image must be an integer, got ${simulateImage}`);
  const launchedByNapari = program === undefined && env['NAPARI_MON_CLIENT'] !== undefined && env['NAPARI_MON_CLIENT'] !== '';
  const launcherPrefix = launchedByNapari ? launcherSourceName(env) : undefined;
  const targets = parseConnectTargets(values.connect ?? [], launcherPrefix);
  let source: SourceMode;
  if (replayFile !== undefined) {
    if (program !== undefined || targets.length > 0) throw new WebmonError(WebmonErrorCode.BAD_ARGUMENT, 'webmon replay <file> serves a recording: it takes no --connect or program');
    source = { kind: 'replay', file: replayFile };
  } else if (program !== undefined) {
    source = { kind: 'run', command: program, targets };
  } else if (launchedByNapari) {
    source = { kind: 'napari-env', clientConfig: env['NAPARI_MON_CLIENT'] as string, extra: targets, ...(launcherPrefix === 'napari' ? {} : { prefix: launcherPrefix }) };
  } else if (targets.length > 0) {
    source = { kind: 'connect', targets };
  } else {
    source = { kind: 'simulator' };
  }

  return {
    kind: 'run',
    options: {
      port,
      host,
      open: values.open ?? config.open ?? false,
      stay: values.stay ?? config.stay ?? false,
      pages,
      pageSearchPaths: [...new Set([...(configPath ? [dirname(configPath)] : []), cwd])],
      // WEBMON_AUTHKEY: how the Python module hands its random key to the webmon it launches (the
      // environment is private to the user; a command line is not).
      authkey: values.authkey ?? (env['WEBMON_AUTHKEY'] || undefined) ?? config.authkey ?? DEFAULTS.authkey,
      logLevel,
      pollMs,
      python: values.python ?? config.python,
      configSettings: { host: values.host === undefined ? config.host : undefined, python: values.python === undefined ? config.python : undefined },
      source,
      fromSimulator: values['from-simulator'] ?? false,
      simulate: simulate as SimulatedNapari,
      simulatePluginAfter,
      simulateImage,
      configPath,
      record,
      headless,
      flightRecorderBytes,
      recordRawImageHz,
      argv,
    },
  };
}

const OPTIONS = {
  port: { type: 'string', short: 'p' },
  host: { type: 'string' },
  open: { type: 'boolean' },
  config: { type: 'string', short: 'c' },
  page: { type: 'string', multiple: true },
  connect: { type: 'string', multiple: true },
  authkey: { type: 'string' },
  stay: { type: 'boolean' },
  'poll-ms': { type: 'string' },
  python: { type: 'string' },
  simulate: { type: 'string' },
  'simulate-plugin': { type: 'string' },
  'simulate-image': { type: 'string' },
  record: { type: 'string' },
  'flight-recorder-bytes': { type: 'string' },
  'record-raw-image-hz': { type: 'string' },
  'log-level': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
  // Internal: set by the simulator launcher on the command it gives the simulator.
  'from-simulator': { type: 'boolean' },
} as const;

function parseWithNode(argv: string[]) {
  return parseArgs({ args: argv, allowPositionals: true, strict: true, options: OPTIONS });
}

/**
 * node:util's message, without its advice about positional arguments after `--` (webmon takes none),
 * and for a misspelt option the one it most likely meant.
 */
function describeParseError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = /^Unknown option '([^']*)'/.exec(message);
  if ((error as { code?: unknown }).code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || unknown === null) return message;
  const given = unknown[1] ?? '';
  const near = given.startsWith('--') ? closestOption(given.slice(2)) : undefined;
  return `unknown option ${given}${near === undefined ? '' : ` (did you mean --${near}?)`}`;
}

/** The public long option within two edits of `name` (a typo), if there is one. */
function closestOption(name: string): string | undefined {
  let best: { option: string; distance: number } | undefined;
  for (const option of Object.keys(OPTIONS)) {
    if (option === 'from-simulator') continue;
    const distance = editDistance(name.split('=')[0] ?? name, option);
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { option, distance };
  }
  return best?.option;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The user's config file: `webmon/config.json` in the platform's per-user config directory
 * (`$XDG_CONFIG_HOME`, else `~/.config`, on Linux and other Unixes; `~/Library/Application Support` on
 * macOS; `%APPDATA%` on Windows). Undefined when the directory cannot be told.
 */
export function userConfigPath(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string | undefined {
  const home = env['HOME'] || homedir();
  // Only absolute directories: a relative one (invalid by the XDG spec) would mean the working directory again.
  const usable = (dir: string | undefined): string | undefined => (dir !== undefined && isAbsolute(dir) ? dir : undefined);
  const base =
    platform === 'win32'
      ? usable(env['APPDATA'])
      : platform === 'darwin'
        ? usable(home) && join(home, 'Library', 'Application Support')
        : (usable(env['XDG_CONFIG_HOME']) ?? (usable(home) && join(home, '.config')));
  return base === undefined ? undefined : join(base, 'webmon', 'config.json');
}

function defaultConfig(env: NodeJS.ProcessEnv): string | undefined {
  const path = userConfigPath(env);
  return path !== undefined && existsSync(path) ? path : undefined;
}

function readConfig(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (error as Error).message;
    throw new WebmonError(WebmonErrorCode.BAD_CONFIG, `config file ${path}: ${reason}`, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new WebmonError(WebmonErrorCode.BAD_CONFIG, `config file ${path} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  return validateConfig(value, path);
}

/** Checks each key by hand: the config is small and the messages name the file and the key. */
export function validateConfig(value: unknown, path: string): ConfigFile {
  const bad = (key: string, expected: string): never => {
    throw new WebmonError(WebmonErrorCode.BAD_CONFIG, `config file ${path}: "${key}" must be ${expected}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('(top level)', 'an object');
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!(ConfigKeys as readonly string[]).includes(key)) {
      throw new WebmonError(WebmonErrorCode.BAD_CONFIG, `config file ${path}: unknown key "${key}" (known: ${ConfigKeys.join(', ')})`);
    }
  }
  const config: ConfigFile = {};
  if (record['port'] !== undefined) {
    const port = record['port'];
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) bad('port', 'an integer 0–65535');
    config.port = port as number;
  }
  for (const key of ['host', 'authkey', 'python'] as const) {
    const item = record[key];
    if (item === undefined) continue;
    if (typeof item !== 'string' || item === '') bad(key, 'a non-empty string');
    config[key] = item as string;
  }
  for (const key of ['open', 'stay'] as const) {
    const item = record[key];
    if (item === undefined) continue;
    if (typeof item !== 'boolean') bad(key, 'true or false');
    config[key] = item as boolean;
  }
  if (record['pages'] !== undefined) {
    const pages = record['pages'];
    if (!Array.isArray(pages) || !pages.every((page) => typeof page === 'string' && page !== '')) bad('pages', 'an array of package names');
    config.pages = pages as string[];
  }
  if (record['pollMs'] !== undefined) {
    const pollMs = record['pollMs'];
    if (typeof pollMs !== 'number' || !(pollMs >= 0 && pollMs <= 1000)) bad('pollMs', 'a number 0–1000');
    config.pollMs = pollMs as number;
  }
  if (record['logLevel'] !== undefined) {
    if (!(LOG_LEVELS as readonly unknown[]).includes(record['logLevel'])) bad('logLevel', LOG_LEVELS.join(' | '));
    config.logLevel = record['logLevel'] as LogLevel;
  }
  return config;
}

/** `webmon replay <file>`: the recording's absolute path; undefined for any other command. */
function parseReplayCommand(positionals: readonly string[], recordOption: string | undefined, cwd: string): string | undefined {
  const [first, file, extra] = positionals;
  if (first !== 'replay') return undefined;
  if (file === undefined) throw new WebmonError(WebmonErrorCode.BAD_ARGUMENT, 'webmon replay needs a file: webmon replay <file.mcap>');
  if (extra !== undefined) throw new WebmonError(WebmonErrorCode.BAD_ARGUMENT, `unexpected argument ${JSON.stringify(extra)}`);
  if (recordOption !== undefined) throw new WebmonError(WebmonErrorCode.BAD_ARGUMENT, 'webmon replay <file> takes no --record');
  return recordPath(file, 'webmon replay', cwd);
}

/** `webmon record <file>` (headless) or `--record <file>` (while serving); nothing else is positional. */
function parseRecordCommand(positionals: readonly string[], recordOption: string | undefined, cwd: string): { record: string | undefined; headless: boolean } {
  const [first, file, extra] = positionals;
  if (first === undefined) return { record: recordOption === undefined ? undefined : recordPath(recordOption, '--record', cwd), headless: false };
  if (first !== 'record') throw new WebmonError(WebmonErrorCode.BAD_ARGUMENT, `unexpected argument ${JSON.stringify(first)}`);
  if (file === undefined) throw new WebmonError(WebmonErrorCode.BAD_ARGUMENT, 'webmon record needs a file: webmon record <file.mcap>');
  if (extra !== undefined) throw new WebmonError(WebmonErrorCode.BAD_ARGUMENT, `unexpected argument ${JSON.stringify(extra)}`);
  if (recordOption !== undefined) throw new WebmonError(WebmonErrorCode.BAD_ARGUMENT, 'webmon record <file> takes no --record');
  return { record: recordPath(file, 'webmon record', cwd), headless: true };
}

function recordPath(text: string, name: string, cwd: string): string {
  if (text.trim() === '') throw new WebmonError(WebmonErrorCode.BAD_ARGUMENT, `${name} needs a file name`);
  // Absolute: the webmon the simulator launches must write the same file.
  return resolve(cwd, text);
}

/** A byte count: digits with an optional K, M or G suffix (binary: KiB, MiB, GiB). */
export function parseBytes(text: string, name: string): number {
  const match = /^(\d{1,12})\s*([KMG])?(?:i?B)?$/i.exec(text.trim());
  if (match === null) throw new WebmonError(WebmonErrorCode.BAD_ARGUMENT, `${name} must be a byte count such as 268435456, 256M or 1G, got ${JSON.stringify(text)}`);
  const unit = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30 }[(match[2] ?? '').toUpperCase() as 'K' | 'M' | 'G'] ?? 1;
  const bytes = Number(match[1]) * unit;
  if (bytes > 64 * 2 ** 30) throw new WebmonError(WebmonErrorCode.BAD_ARGUMENT, `${name} must be at most 64G, got ${JSON.stringify(text)}`);
  return bytes;
}

export function parsePort(text: string, name: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    throw new WebmonError(WebmonErrorCode.BAD_ARGUMENT, `${name} must be an integer 0–65535 (0 picks a free port), got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

function parseNumber(text: string, name: string, min: number, max: number): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new WebmonError(WebmonErrorCode.BAD_ARGUMENT, `${name} must be a number ${min}–${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}

function parseLogLevel(text: string, name: string): LogLevel {
  if (!(LOG_LEVELS as readonly string[]).includes(text)) {
    throw new WebmonError(WebmonErrorCode.BAD_ARGUMENT, `${name} must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(text)}`);
  }
  return text as LogLevel;
}

const PREFIX_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;

/** The launching program's topic prefix: `WEBMON_SOURCE_NAME` (set by the Python module), else `napari`. */
function launcherSourceName(env: NodeJS.ProcessEnv): string {
  const name = env['WEBMON_SOURCE_NAME'];
  if (name === undefined || name === '') return 'napari';
  if (!PREFIX_PATTERN.test(name)) {
    throw new WebmonError(WebmonErrorCode.BAD_CONFIG, `WEBMON_SOURCE_NAME must be a letter, then letters, digits, _ or - (at most 32), got ${JSON.stringify(name)}`);
  }
  return name;
}

/**
 * `--connect` values → targets with distinct topic prefixes: `[prefix=]host:port`. Unnamed ones get
 * `napari`, `napari2`, … in order (`napari` is the launching napari's when there is one).
 */
export function parseConnectTargets(values: readonly string[], launcherPrefix: string | boolean | undefined): ConnectTarget[] {
  const used = new Set<string>(launcherPrefix === true ? ['napari'] : typeof launcherPrefix === 'string' ? [launcherPrefix] : []);
  const targets: ConnectTarget[] = [];
  for (const value of values) {
    const named = /^([^=:[\]]+)=(.*)$/.exec(value);
    const prefix = named?.[1];
    if (prefix !== undefined && !PREFIX_PATTERN.test(prefix)) {
      throw new WebmonError(WebmonErrorCode.BAD_ARGUMENT, `--connect prefix must be a letter, then letters, digits, _ or - (at most 32), got ${JSON.stringify(prefix)}`);
    }
    if (prefix !== undefined && used.has(prefix)) throw new WebmonError(WebmonErrorCode.BAD_ARGUMENT, `--connect prefix ${prefix} is used twice`);
    const address = parseHostPort(named?.[2] ?? value);
    let chosen = prefix;
    for (let n = 1; chosen === undefined; n++) if (!used.has(n === 1 ? 'napari' : `napari${n}`)) chosen = n === 1 ? 'napari' : `napari${n}`;
    used.add(chosen);
    targets.push({ prefix: chosen, ...address });
  }
  return targets;
}

/** `host:port`, `[::1]:port` or just `port` (then host 127.0.0.1). */
export function parseHostPort(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text) ?? /^()()(\d+)$/.exec(text);
  if (!match) {
    throw new WebmonError(WebmonErrorCode.BAD_ARGUMENT, `--connect must be host:port (napari's manager address), got ${JSON.stringify(text)}`);
  }
  // An empty group (bare port, or ":port") means the local napari.
  const host = match[1] || match[2] || '127.0.0.1';
  const port = parsePort(match[3] ?? '', '--connect port');
  if (port === 0) throw new WebmonError(WebmonErrorCode.BAD_ARGUMENT, '--connect port must not be 0');
  return { host, port };
}
