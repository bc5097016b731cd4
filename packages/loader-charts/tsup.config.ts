import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  platform: 'browser',
  target: 'es2022',
  dts: true,
  sourcemap: true,
  clean: true,
  // Peer dependencies: the host app brings its own copy (one Vega runtime per page).
  external: ['vega', 'vega-lite', 'vega-embed', '@webmon/napari'],
});
