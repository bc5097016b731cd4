import { builtinModules } from 'node:module';
import { defineConfig } from 'tsup';
import type { Plugin } from 'esbuild';

const builtins = new Set(builtinModules);

/**
 * The main entry is runtime-neutral (pages and widgets import it); only `src/node/` (the `./node`
 * entry) may use Node. Both entries build together so they share one chunk of schemas; this plugin
 * fails the build when code outside `src/node/` imports a Node built-in.
 */
const forbidNodeBuiltinsOutsideNode: Plugin = {
  name: 'forbid-node-builtins-outside-node',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      const bare = args.path.replace(/^node:/, '').split('/')[0] ?? '';
      const fromNodeEntry = /[\\/]src[\\/]node([\\/]|\.ts$)/.test(args.importer);
      if (!fromNodeEntry && (args.path.startsWith('node:') || builtins.has(bare))) {
        return { errors: [{ text: `@webmon/napari's main entry is runtime-neutral: Node built-in "${args.path}" may only be imported under src/node/` }] };
      }
      return undefined;
    });
  },
};

export default defineConfig({
  entry: ['src/index.ts', 'src/node.ts'],
  format: ['esm'],
  platform: 'node',
  target: 'es2022',
  dts: true,
  sourcemap: true,
  clean: true,
  splitting: true,
  tsconfig: 'tsconfig.node.json',
  removeNodeProtocol: false,
  esbuildPlugins: [forbidNodeBuiltinsOutsideNode],
});
