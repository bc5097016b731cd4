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
  },
]);
