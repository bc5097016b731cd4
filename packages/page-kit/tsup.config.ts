import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', host: 'src/host/index.ts' },
  format: ['esm'],
  platform: 'browser',
  target: 'es2022',
  dts: true,
  sourcemap: true,
  clean: true,
});
