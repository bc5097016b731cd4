/**
 * Loader for the optional zero-copy addon (`native/webmon_shm.c`, built by `native/build.mjs`, the
 * package's install script). Loading is lazy and never throws: when the addon is missing or refuses
 * to load, every block falls back to positioned `fs` reads and `nativeAddonStatus()` says why and how
 * to build it — npm hides install scripts' output, so this is where a user learns it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the addon exports (see native/webmon_shm.c). */
export interface NativeShmAddon {
  mapFd(fd: number, length: number, writable: boolean): ArrayBuffer;
}

export interface NativeAddonStatus {
  /** true when the mmap path is available to `openSharedMemory`. */
  readonly loaded: boolean;
  /** The `.node` file that was loaded (or tried). */
  readonly path: string | null;
  /** Why it is not loaded (missing build, disabled by env, load error) and how to build it, else null. */
  readonly reason: string | null;
  /**
   * When building could make it load: the command that builds it inside the installed package (the
   * same script npm runs at install), else null.
   */
  readonly buildCommand: string | null;
  /** What building needs and this machine lacks (C compiler, make, Python 3, node-gyp, Node's headers). */
  readonly missing: readonly string[];
}

let cached: { addon: NativeShmAddon | null; status: NativeAddonStatus } | undefined;

/** Walks up from this module (src/shm/ in tests, dist/ when bundled) to the package root. */
function findPackageRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth++) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown };
        if (parsed.name === '@webmon/shm-reader') return dir;
      } catch {
        // an unreadable package.json on the way up is not ours; keep walking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return null;
}

function locateAddon(): string | null {
  const override = process.env['WEBMON_SHM_ADDON'];
  if (override) return override;
  const root = findPackageRoot();
  if (!root) return null;
  const release = join(root, 'native', 'build', 'Release');
  if (!existsSync(release)) return null;
  const preferred = join(release, 'webmon_shm.node');
  if (existsSync(preferred)) return preferred;
  const any = readdirSync(release).find((file) => file.endsWith('.node'));
  return any ? join(release, any) : null;
}

const DOCS_URL = 'https://github.com/webmon-dev/webmon/blob/main/packages/shm-reader/docs/shm.md#zero-copy-vs-fallback';

/** A path as one shell word. */
function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * Not loaded, but a build could fix that: what this machine lacks for building (the same probe the
 * build script runs), the command, the last build's one-line note and where the docs are.
 */
function notBuilt(problem: string, path: string | null): NativeAddonStatus {
  const root = findPackageRoot();
  if (root === null) return { loaded: false, path, reason: `${problem} (the package folder of @webmon/shm-reader was not found)`, buildCommand: null, missing: [] };
  const buildCommand = `node ${shellWord(join(root, 'native', 'build.mjs'))}`;
  let missing: string[] = [];
  try {
    const toolchain = createRequire(import.meta.url)(join(root, 'native', 'toolchain.cjs')) as { probeToolchain(): { missing: string[] } };
    missing = toolchain.probeToolchain().missing;
  } catch {
    // an incomplete package folder: the command and the docs still say what to do
  }
  const lastBuild = join(root, 'native', 'build', 'last-build.txt');
  const last = existsSync(lastBuild) ? readFileSync(lastBuild, 'utf8').trim().replace(/^\[shm-reader\] native addon: /, '') : null;
  const docs = existsSync(join(root, 'docs', 'shm.md')) ? join(root, 'docs', 'shm.md') : DOCS_URL;
  const reason = [
    `${problem}.`,
    missing.length > 0 ? `Missing for the build: ${missing.join('; ')}. Install that, then build it with: ${buildCommand}` : `Build it with: ${buildCommand}`,
    '(or `npm rebuild @webmon/shm-reader` in your project).',
    last === null ? null : `Last build: ${last}.`,
    `See ${docs} (Zero-copy vs fallback).`,
  ]
    .filter((part) => part !== null)
    .join(' ');
  return { loaded: false, path, reason, buildCommand, missing };
}

function load(): { addon: NativeShmAddon | null; status: NativeAddonStatus } {
  const off = (reason: string): { addon: null; status: NativeAddonStatus } => ({
    addon: null,
    status: { loaded: false, path: null, reason, buildCommand: null, missing: [] },
  });
  if (process.env['WEBMON_SHM_NATIVE'] === '0') return off('disabled by WEBMON_SHM_NATIVE=0');
  if (process.platform !== 'linux') return off(`no zero-copy path on ${process.platform}`);
  const path = locateAddon();
  if (!path) return { addon: null, status: notBuilt('addon not built', null) };
  try {
    const required = createRequire(import.meta.url)(path) as Partial<NativeShmAddon>;
    if (typeof required.mapFd !== 'function') {
      return { addon: null, status: notBuilt(`${path} has no mapFd export`, path) };
    }
    return { addon: required as NativeShmAddon, status: { loaded: true, path, reason: null, buildCommand: null, missing: [] } };
  } catch (error) {
    // Typically built for another Node (NODE_MODULE_VERSION): building again fixes it.
    const reason = error instanceof Error ? error.message.split('\n')[0] ?? 'load failed' : String(error);
    return { addon: null, status: notBuilt(`the addon did not load (${reason})`, path) };
  }
}

/** The addon, or null when only the fs path is available. Loaded once per process. */
export function nativeAddon(): NativeShmAddon | null {
  cached ??= load();
  return cached.addon;
}

/** Whether the zero-copy (mmap) path is available in this process, and why not. */
export function nativeAddonStatus(): NativeAddonStatus {
  cached ??= load();
  return cached.status;
}
