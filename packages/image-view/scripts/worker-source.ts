/**
 * The render worker bundled into one minified classic script, for inlining as the string
 * `__IMAGE_VIEW_WORKER__` (see src/worker-target.ts): by the build (tsup.config.ts), and by the browser
 * tests and the benchmark, which bundle the sources with the same define.
 */
import { build } from 'esbuild';

export async function workerSource(): Promise<string> {
  const result = await build({
    entryPoints: [new URL('../src/render-worker.ts', import.meta.url).pathname],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    logLevel: 'error',
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error('image-view: the render worker did not bundle');
  return file.text;
}

/** esbuild `define` for a bundle of the sources that can start the worker (and has no `process`). */
export async function workerDefine(): Promise<Record<string, string>> {
  return { __IMAGE_VIEW_WORKER__: JSON.stringify(await workerSource()), 'process.env.NODE_ENV': '"production"' };
}
