import { defineConfig } from 'vitest/config';

export default defineConfig({ test: { name: 'page-stats', include: ['test/**/*.test.ts'] } });
