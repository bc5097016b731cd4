import { copyFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { defineConfig } from 'tsup';
import { BUILT_IN_PAGES, builtInModule } from './src/pages/built-in.js';

export default defineConfig([
  // The command (Node). Dependencies stay external: they are installed with the app.
  {
    entry: { cli: 'src/cli.ts' },
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    clean: false,
  },
  // Browser bundles: the shell and the built-in pages, each self-contained (three, vega inside) so the
  // server only hands out files. The pages are built like any page package: one module each.
  {
    entry: {
      'public/shell': 'src/browser/shell.ts',
      ...Object.fromEntries(Object.keys(BUILT_IN_PAGES).map((id) => [builtInModule(id), `src/pages/${id}.ts`])),
    },
    format: ['esm'],
    platform: 'browser',
    target: 'es2022',
    noExternal: [/.*/],
    splitting: false,
    minify: true,
    sourcemap: true,
    clean: false,
    // The loader page runs its charts in a worker that it loads from beside its module
    // (`new URL('./charts-worker.js', import.meta.url)` → /pages/loader/charts-worker.js). The package ships
    // that file self-contained, so it is copied as it is. So is the relay client's bulk worker, which the
    // shell loads from beside itself (/assets/relay-bulk-worker.js) for the pages' binary topics.
    onSuccess: async () => {
      const resolve = createRequire(import.meta.url).resolve;
      copyFileSync(resolve('@webmon/loader-charts/charts-worker.js'), `dist/${builtInModule('loader').replace(/\/page$/, '')}/charts-worker.js`);
      copyFileSync(resolve('@webmon/relay/bulk-worker.js'), 'dist/public/relay-bulk-worker.js');
    },
  },
]);
