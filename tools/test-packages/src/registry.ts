// A local npm registry for tests: verdaccio serves our packages from a temporary folder and proxies every
// other name to npmjs, so an install resolves third-party dependencies exactly as a user's does, while our
// packages come from the tarballs under test (never from npmjs, where older or foreign ones may exist).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { plainNpmEnv } from './install.js';

const run = promisify(execFile);

/** verdaccio's own entry, run with this Node (6.8 is the last release that runs on Node 20). */
const VERDACCIO = fileURLToPath(new URL('../node_modules/verdaccio/bin/verdaccio', import.meta.url));

/** A loopback port nobody listens on right now: the OS picks it for a socket we close at once. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface LocalRegistryOptions {
  /** Package names or verdaccio patterns served (and publishable) locally, never proxied: `webmon`, `@webmon/*`. */
  local: readonly string[];
  /** Where every other name comes from. @default 'https://registry.npmjs.org/' */
  uplink?: string;
  /** Give up when the registry does not answer its ping within this time. @default 30_000 */
  startTimeoutMs?: number;
}

export interface LocalRegistry {
  /** `http://127.0.0.1:<port>/` */
  url: string;
  /**
   * npm's environment for this registry: `plainNpmEnv()` plus a user config holding the registry and a token,
   * an npm cache and an (empty) global config, all inside the registry's folder, so nothing is read from or
   * left in the user's npm set-up (and `npx` finds no install from an earlier run).
   */
  npmEnv(extra?: Record<string, string>): NodeJS.ProcessEnv;
  /** `npm publish <tarball>`: the file users get, not a workspace folder. */
  publish(tarball: string): Promise<void>;
  /** What verdaccio printed (warnings and errors), for failure messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process is gone. */
  stop(): Promise<void>;
}

/** Starts verdaccio on a free loopback port with its storage, config and npm files in `dir`. */
export async function startLocalRegistry(dir: string, options: LocalRegistryOptions): Promise<LocalRegistry> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const local = Object.fromEntries(
    // Anyone may publish: npm itself insists on a token (ENEEDAUTH without one), verdaccio then takes the
    // request as anonymous, which `$all` admits. No user, no password file to manage.
    options.local.map((pattern) => [pattern, { access: '$all', publish: '$all', unpublish: '$all' }]),
  );
  const config = {
    storage: join(dir, 'storage'),
    // No sign-ups: `$all` above is the only way in, and nothing is written beside the storage.
    auth: { htpasswd: { file: join(dir, 'htpasswd'), max_users: -1 } },
    uplinks: { npmjs: { url: options.uplink ?? 'https://registry.npmjs.org/', timeout: '60s' } },
    packages: { ...local, '**': { access: '$all', proxy: 'npmjs' } },
    web: { enable: false },
    max_body_size: '200mb',
    log: { type: 'stdout', format: 'pretty', level: 'warn' },
  };
  // YAML is a superset of JSON: verdaccio reads this file as its YAML config.
  const configFile = join(dir, 'verdaccio.yaml');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const userconfig = join(dir, 'npmrc');
  writeFileSync(userconfig, `registry=${url}\n//127.0.0.1:${port}/:_authToken=webmon-test\n`);

  const child = spawn(process.execPath, [VERDACCIO, '--config', configFile, '--listen', `127.0.0.1:${port}`], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: plainNpmEnv(),
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const registry: LocalRegistry = {
    url,
    npmEnv: (extra = {}) =>
      plainNpmEnv({
        npm_config_registry: url,
        npm_config_userconfig: userconfig,
        npm_config_globalconfig: join(dir, 'npmrc-global'),
        npm_config_cache: join(dir, 'npm-cache'),
        ...extra,
      }),
    async publish(tarball) {
      await run('npm', ['publish', tarball, '--registry', url, '--loglevel=warn'], { cwd: dir, env: registry.npmEnv() });
    },
    output: () => output,
    stop: () => stopProcess(child, exited),
  };
  try {
    await waitForPing(url, child, () => output, options.startTimeoutMs ?? 30_000);
  } catch (error) {
    await registry.stop();
    throw error;
  }
  return registry;
}

async function waitForPing(url: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`verdaccio exited (${child.exitCode ?? child.signalCode}) before answering; output:\n${output()}`);
    }
    try {
      const response = await fetch(`${url}-/ping`, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`verdaccio did not answer ${url}-/ping within ${timeoutMs} ms; output:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stopProcess(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
