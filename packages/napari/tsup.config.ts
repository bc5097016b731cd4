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
        return { errors: [{ text: `@webmon/napari (main entry) is runtime-neutral: Node built-in "${args.path}" may not be imported` }] };
      }
      return undefined;
    });
  },
};

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  platform: 'neutral',
  target: 'es2022',
  dts: true,
  sourcemap: true,
  clean: true,
  // tsup would otherwise strip `node:` and mark built-ins external before our plugin sees them.
  removeNodeProtocol: false,
  noExternal: [/^node:/, new RegExp(`^(${[...builtins].map((name) => name.replace(/[/]/g, '\\/')).join('|')})(\\/|$)`)],
  esbuildPlugins: [forbidNodeBuiltins],
});
