// Installing packed tarballs the way a user would: plain npm, an empty folder, nothing from the workspace.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PackedPackage } from './pack.js';
import { withPublishedDependencies } from './workspace.js';

/** npm's environment without what pnpm or vitest put there (a consumer's npm sees none of it). */
export function plainNpmEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_|PNPM_|VITEST|NODE_OPTIONS$|NODE_PATH$|INIT_CWD$)/i.test(key)) continue;
    env[key] = value;
  }
  return { ...env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', ...extra };
}

export interface InstallOptions {
  /** Third-party packages from the registry installed beside (e.g. `three@0.187.0`, `esbuild`). */
  from_registry?: string[];
  /** Variables set for npm and the install scripts it runs (e.g. a PATH without a C compiler). */
  env?: Record<string, string>;
}

/**
 * Creates `dir` with an empty ESM package.json and `npm install`s the tarballs of `names` and of every
 * published webmon package they depend on (those are not on a registry), plus `options.from_registry`.
 */
export function installTarballs(
  packed: Record<string, PackedPackage>,
  dir: string,
  names: readonly string[],
  options: InstallOptions = {},
): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2));
  const tarballs = withPublishedDependencies(names).map((name) => {
    const entry = packed[name];
    if (entry === undefined) throw new Error(`${name} was not packed`);
    return entry.tarball;
  });
  execFileSync('npm', ['install', '--loglevel=error', ...tarballs, ...(options.from_registry ?? [])], {
    cwd: dir,
    stdio: 'pipe',
    env: plainNpmEnv(options.env),
  });
}
