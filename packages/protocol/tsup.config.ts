import { builtinModules } from 'node:module';
import { defineConfig } from 'tsup';
import type { Plugin } from 'esbuild';

const builtins = new Set(builtinModules);

/**
 * esbuild's `neutral` platform quietly leaves Node built-ins external (and even drops `node:`),
 * which would ship a "runtime-neutral" bundle that breaks in browsers. Make any such import fail the build.
 */
const forbidNodeBuiltins: Plugin = {
  name: 'forbid-node-builtins',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      const bare = args.path.replace(/^node:/, '').split('/')[0] ?? '';
      if (args.path.startsWith('node:') || builtins.has(bare)) {
        return { errors: [{ text: `@webmon/protocol is runtime-neutral: Node built-in "${args.path}" may not be imported` }] };
      }
      return undefined;
    });
  },
};

/**
 * dist/ mirrors src/: one file per module, its relative imports left as they are. With `sideEffects: false`
 * a page's bundler then drops every module the page does not use. In one bundled file the schemas'
 * top-level zod calls would stay (a bundler cannot know they are pure) and drag all of zod into every
 * page, even one that only decodes frames. (Bundling each entry alone, rather than `bundle: false`, keeps
 * the plugin above in force.)
 */
const keepModules: Plugin = {
  name: 'keep-modules',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, (args) => (args.kind === 'entry-point' ? undefined : { path: args.path, external: true }));
  },
};

export default defineConfig({
  entry: ['src/*.ts'],
  format: ['esm'],
  platform: 'neutral',
  target: 'es2022',
  dts: { entry: ['src/index.ts'] },
  sourcemap: true,
  clean: true,
  // tsup would otherwise strip `node:` and mark built-ins external before our plugin sees them.
  removeNodeProtocol: false,
  noExternal: [/^node:/, new RegExp(`^(${[...builtins].map((name) => name.replace(/[/]/g, '\\/')).join('|')})(\\/|$)`)],
  esbuildPlugins: [forbidNodeBuiltins, keepModules],
});
