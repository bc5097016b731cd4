import { defineConfig } from 'tsup';
import { workerSource } from './scripts/worker-source.js';

// The render worker is bundled first and inlined as a string (`__IMAGE_VIEW_WORKER__`, see
// src/worker-target.ts): a host bundles this package like any other and serves no second file.
export default defineConfig(async () => ({
  entry: ['src/index.ts'],
  format: ['esm'],
  platform: 'browser',
  target: 'es2022',
  dts: true,
  sourcemap: true,
  clean: true,
  define: { __IMAGE_VIEW_WORKER__: JSON.stringify(await workerSource()) },
}));
