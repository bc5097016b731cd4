import { defineConfig } from 'vitest/config';

export default defineConfig({ test: { name: 'napari', include: ['test/**/*.test.ts'], testTimeout: 120_000 } });
