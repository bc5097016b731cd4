import { defineConfig } from 'tsup';

export default defineConfig({
  // The writer thread's script is an entry of its own: `new Worker(new URL('./writer-worker.js', import.meta.url))`.
  entry: { index: 'src/index.ts', 'writer-worker': 'src/writer-worker.ts' },
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  // Types for the public entry only (the thread's script has no API).
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
});
