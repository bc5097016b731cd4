import { defineConfig } from 'tsup';

// One self-contained browser module: webmon serves it as is, so the package needs no dependencies
// at install time (page-kit and @webmon/image-view are bundled, and of the protocol only zod-free modules).
export default defineConfig({
  entry: { page: 'src/page.ts' },
  format: ['esm'],
  platform: 'browser',
  target: 'es2022',
  noExternal: [/.*/],
  minify: true,
  sourcemap: true,
  clean: true,
});
