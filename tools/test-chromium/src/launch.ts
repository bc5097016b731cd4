import { accessSync, constants } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { ChromiumNotFoundError } from './errors.js';

/**
 * Flags for headless Debian Chromium in a container: no sandbox (we run as root), WebGL2 through SwiftShader
 * (no GPU here), and none of the background traffic (updates, sync, QUIC probes) that could reach the network.
 */
export const CHROMIUM_ARGS: readonly string[] = Object.freeze([
  '--no-sandbox',
  '--disable-gpu',
  '--enable-unsafe-swiftshader',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]);

export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';

export interface LaunchChromiumOptions {
  /** Browser binary. Default: `$WEBMON_CHROMIUM`, else `/usr/bin/chromium`. */
  executablePath?: string;
  /** Flags added after {@link CHROMIUM_ARGS}. */
  extraArgs?: readonly string[];
}

/** The binary `launchChromium` would start: `$WEBMON_CHROMIUM` (if set and not empty) or `/usr/bin/chromium`. */
export function chromiumExecutablePath(): string {
  const fromEnv = process.env['WEBMON_CHROMIUM'];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_CHROMIUM_PATH;
}

/** Starts headless Debian Chromium through playwright-core (never a downloaded browser). Close it in `afterAll`. */
export async function launchChromium(options: LaunchChromiumOptions = {}): Promise<Browser> {
  const executablePath = options.executablePath ?? chromiumExecutablePath();
  try {
    accessSync(executablePath, constants.X_OK);
  } catch {
    throw new ChromiumNotFoundError(executablePath);
  }
  return chromium.launch({ executablePath, headless: true, args: [...CHROMIUM_ARGS, ...(options.extraArgs ?? [])] });
}
