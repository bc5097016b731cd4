/**
 * Loader for the optional zero-copy addon (`native/webmon_shm.c`, built by `native/build.mjs`).
 * Loading is lazy and never throws: when the addon is missing or refuses to load, every block
 * falls back to positioned `fs` reads and `nativeAddonStatus()` says why.
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
  /** Why it is not loaded (missing build, disabled by env, load error), else null. */
  readonly reason: string | null;
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

function load(): { addon: NativeShmAddon | null; status: NativeAddonStatus } {
  if (process.env['WEBMON_SHM_NATIVE'] === '0') {
    return { addon: null, status: { loaded: false, path: null, reason: 'disabled by WEBMON_SHM_NATIVE=0' } };
  }
  if (process.platform !== 'linux') {
    return { addon: null, status: { loaded: false, path: null, reason: `no zero-copy path on ${process.platform}` } };
  }
  const path = locateAddon();
  if (!path) {
    return {
      addon: null,
      status: { loaded: false, path: null, reason: 'addon not built (run the build:native script; see docs/shm.md)' },
    };
  }
  try {
    const required = createRequire(import.meta.url)(path) as Partial<NativeShmAddon>;
    if (typeof required.mapFd !== 'function') {
      return { addon: null, status: { loaded: false, path, reason: 'the .node file has no mapFd export' } };
    }
    return { addon: required as NativeShmAddon, status: { loaded: true, path, reason: null } };
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] ?? 'load failed' : String(error);
    return { addon: null, status: { loaded: false, path, reason } };
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
