import { defineConfig } from 'vitest/config';

export default defineConfig({ test: { name: 'page-image', include: ['test/**/*.test.ts'] } });
