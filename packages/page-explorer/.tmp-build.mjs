import { build } from 'esbuild';
await build({
  entryPoints: { page: 'src/page.ts' }, outdir: 'dist', bundle: true, format: 'esm', platform: 'browser', target: 'es2022', minify: true, sourcemap: true,
  alias: { '@webmon/image-view': '/work/wt/image-widget/packages/image-view/src/index.ts' },
  nodePaths: ['/work/wt/explorer/node_modules/.pnpm/node_modules'],
});
