import { defineConfig } from 'vitest/config';

// One run over every workspace package: each package keeps its own small vitest.config.ts.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'examples/*', 'tools/*'],
  },
});
