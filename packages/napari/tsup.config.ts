import { builtinModules } from 'node:module';
import { defineConfig } from 'tsup';
import type { Plugin } from 'esbuild';

const builtins = new Set(builtinModules);

/**
 * The main entry is runtime-neutral (pages and widgets import it); only `src/node/` (the `./node`
 * entry) may use Node. This plugin fails the build when code outside `src/node/` imports a Node built-in.
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

/**
 * dist/ mirrors src/: one file per module, relative imports left as they are, so with `sideEffects: false`
 * a page's bundler keeps only the modules it uses. A page that needs topic names or types (the widgets, a
 * page package) must not get the zod schemas and zod with them, which one bundled file would force: a
 * bundler cannot know that the schemas' top-level zod calls are pure.
 */
const keepModules: Plugin = {
  name: 'keep-modules',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, (args) => (args.kind === 'entry-point' ? undefined : { path: args.path, external: true }));
  },
};

export default defineConfig({
  entry: ['src/**/*.ts'],
  format: ['esm'],
  platform: 'node',
  target: 'es2022',
  dts: { entry: ['src/index.ts', 'src/node.ts'] },
  sourcemap: true,
  clean: true,
  tsconfig: 'tsconfig.node.json',
  removeNodeProtocol: false,
  esbuildPlugins: [forbidNodeBuiltinsOutsideNode, keepModules],
});
