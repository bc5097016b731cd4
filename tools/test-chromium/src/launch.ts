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
  /**
   * Composite in the GPU process, on SwiftShader, instead of in software: without `--disable-gpu`, ANGLE on
   * SwiftShader. A browser with a GPU composites this way. In software compositing each frame of a WebGL
   * canvas is read back on the page's main thread during the commit (`GLES2::ReadPixels` in
   * `LayerTreeHost::DoUpdateLayers`: 17–44 ms per frame of a 1000 × 700 canvas in a trace here), so every
   * message waits behind it; benchmarks of a page that draws WebGL use this to measure the page, not the
   * readback. @default false (the tests' pixel checks run in software compositing)
   */
  gpuCompositing?: boolean;
}

/** What {@link LaunchChromiumOptions.gpuCompositing} puts in place of `--disable-gpu`. */
export const GPU_COMPOSITING_ARGS: readonly string[] = Object.freeze(['--use-gl=angle', '--use-angle=swiftshader', '--enable-gpu-rasterization', '--ignore-gpu-blocklist']);

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
  const base = options.gpuCompositing ? [...CHROMIUM_ARGS.filter((arg) => arg !== '--disable-gpu'), ...GPU_COMPOSITING_ARGS] : CHROMIUM_ARGS;
  return chromium.launch({ executablePath, headless: true, args: [...base, ...(options.extraArgs ?? [])] });
}
