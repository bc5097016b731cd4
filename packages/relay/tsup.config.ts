import { builtinModules } from 'node:module';
import { defineConfig } from 'tsup';
import type { Plugin } from 'esbuild';

const builtins = new Set(builtinModules);

/** The browser entry must not pull in a Node built-in or `ws` (directly or through a shared module). */
const browserOnly: Plugin = {
  name: 'relay-client-browser-only',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      const bare = args.path.replace(/^node:/, '').split('/')[0] ?? '';
      if (args.path.startsWith('node:') || builtins.has(bare) || bare === 'ws') {
        return { errors: [{ text: `@webmon/relay/client runs in browsers: "${args.path}" (imported by ${args.importer}) may not be imported` }] };
      }
      return undefined;
    });
  },
};

export default defineConfig([
  {
    // The view pool's thread script is an entry of its own: `new Worker(new URL('./view-worker.js', import.meta.url))`.
    entry: { index: 'src/index.ts', 'view-worker': 'src/view-worker.ts' },
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    // Types for the public entry only (the thread's script has no API).
    dts: { entry: { index: 'src/index.ts' } },
    sourcemap: true,
    clean: ['index.*', 'view-worker.*', 'chunk-*'],
  },
  {
    entry: { client: 'src/client.ts' },
    format: ['esm'],
    platform: 'browser',
    target: 'es2022',
    dts: true,
    sourcemap: true,
    clean: ['client.*'],
    // tsup would otherwise strip `node:` and mark built-ins external before the plugin sees them.
    removeNodeProtocol: false,
    noExternal: [/^node:/, 'ws', new RegExp(`^(${[...builtins].map((name) => name.replace(/[/]/g, '\\/')).join('|')})(\\/|$)`)],
    esbuildPlugins: [browserOnly],
  },
  {
    // The bulk worker's script (`bulkWorker`): loaded by URL in a worker, where no bare import resolves,
    // so it is one self-contained module.
    entry: { 'bulk-worker': 'src/bulk-worker.ts' },
    format: ['esm'],
    platform: 'browser',
    target: 'es2022',
    // An empty declaration, so the `./bulk-worker.js` export resolves to types like every other entry.
    dts: true,
    sourcemap: true,
    minify: true,
    clean: ['bulk-worker.*'],
    removeNodeProtocol: false,
    noExternal: [/.*/],
    esbuildPlugins: [browserOnly],
  },
]);
