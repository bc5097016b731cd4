import { defineConfig } from 'vitest/config';

export default defineConfig({ test: { name: 'page-kit', include: ['test/**/*.test.ts'] } });
