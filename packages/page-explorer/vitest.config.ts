import { defineConfig } from 'vitest/config';

export default defineConfig({ test: { name: 'page-explorer', include: ['test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 90_000 } });
