import { defineConfig } from 'tsup';

// One self-contained browser module: webmon serves it as is, so the package needs no dependencies at
// install time (page-kit, the time-series and image widgets are bundled in).
export default defineConfig({
  entry: { page: 'src/index.ts' },
  format: ['esm'],
  platform: 'browser',
  target: 'es2022',
  noExternal: [/.*/],
  minify: true,
  sourcemap: true,
  clean: true,
});
