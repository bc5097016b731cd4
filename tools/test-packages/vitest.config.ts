import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'test-packages',
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 240_000,
    hookTimeout: 240_000,
  },
});
