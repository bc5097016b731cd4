import { defineConfig } from 'vitest/config';

export default defineConfig({ test: { name: 'time-series', include: ['test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 90_000 } });
