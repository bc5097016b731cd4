import { defineConfig } from 'tsup';

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
      'pages/viewer/page': 'src/pages/viewer.ts',
      'pages/loader/page': 'src/pages/loader.ts',
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
