import { defineConfig } from 'tsup';
import { DOCUMENT_SHIM } from './src/worker/document-shim.js';

export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm'],
    platform: 'browser',
    target: 'es2022',
    dts: true,
    sourcemap: true,
    // Not tsup's clean: the two builds run at once and one would delete the other's files (see "build").
    clean: false,
    // Peer dependencies: the host app brings its own copy (one Vega runtime per page).
    external: ['vega', 'vega-lite', 'vega-embed', '@webmon/napari'],
  },
  // The charts' worker: one self-contained module (Vega and Vega-Lite inside), since a worker has no access
  // to the page's copies and a server may only hand out files. Loaded by `new URL('./charts-worker.js',
  // import.meta.url)` from dist/index.js. The banner must run before Vega's code (see document-shim.ts).
  {
    entry: { 'charts-worker': 'src/worker/charts-worker.ts' },
    format: ['esm'],
    platform: 'browser',
    target: 'es2022',
    noExternal: [/.*/],
    splitting: false,
    minify: true,
    // No source map: it would be 4 MB of Vega in the tarball.
    sourcemap: false,
    // An empty declaration, so the `./charts-worker.js` export resolves to types like every other entry.
    dts: true,
    clean: false,
    banner: { js: DOCUMENT_SHIM },
    // Vega probes process.env.NODE_ENV; a worker has no `process`.
    define: { 'process.env.NODE_ENV': '"production"' },
  },
]);
