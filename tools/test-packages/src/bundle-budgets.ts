// The one table of browser bundle budgets. `test/bundle-size.test.ts` bundles each row from the packed
// tarballs with esbuild (minified ESM for browsers) and holds it to its budget, to "no zod" where the row
// says so, and to the figures its package's README states.
//
// Raising a budget is a decision: say in the commit why the bytes are worth it. Budgets are today's size
// plus ~10–15 % headroom; figures are bytes (kB in READMEs = 1000 bytes).

export interface BundleBudget {
  /** How the README names the bundle, in backticks on its "Bundle size" line (unique within that README). */
  label: string;
  /** The package whose README states the figures. */
  readme: string;
  /** The module esbuild bundles: a whole entry (`export * from`) or the part of one that a page uses. */
  code: string;
  /** Left out of the bundle: peer dependencies the page brings once for all its widgets. */
  external: readonly string[];
  /** The bundle must not contain zod (validation that needs zod is the page's choice, not the package's). */
  zodFree: boolean;
  /**
   * A worker's own file: bundled as an entry, ignoring the package's `"sideEffects": false` (which would let
   * esbuild drop a bare import of it; a bundler that emits a worker treats it as an entry too).
   */
  workerEntry?: boolean;
  /** Largest minified size, bytes. */
  minified: number;
  /** Largest gzipped (level 9) size, bytes. */
  gzipped: number;
}

export const BUNDLE_BUDGETS: readonly BundleBudget[] = [
  {
    label: '@webmon/relay/client',
    readme: '@webmon/relay',
    code: "export * from '@webmon/relay/client';",
    external: [],
    zodFree: true,
    // 27 kB since array views (protocol 1.3): setView and the hand-written checks of views (+2.3 kB).
    // 30 kB since chunked frames (protocol 1.5): reassembling chunks and confirming them, so a page's small
    // messages are not held up ~100 ms behind each image frame (+2.4 kB; 27.7 kB with replay's timeline).
    // 35 kB since the bulk worker's lane (2026-12-06, +4.7 kB): binary topics on a second connection in a
    // worker, so a page's small messages do not wait behind an image's chunks on its main thread.
    minified: 35_000,
    gzipped: 11_800,
  },
  {
    label: '@webmon/relay/bulk-worker.js',
    readme: '@webmon/relay',
    // The bulk worker's script, a second file the page loads by URL (`bulkWorker`): a relay client of its
    // own inside, since a worker cannot use the page's. Only pages given `bulkWorker` fetch it.
    code: "import '@webmon/relay/bulk-worker.js';",
    workerEntry: true,
    external: [],
    zodFree: true,
    minified: 37_000,
    gzipped: 12_500,
  },
  {
    label: '@webmon/protocol',
    readme: '@webmon/protocol',
    // What a client uses; the schemas (and zod) are for servers and for JSON Schema.
    code: "export { SUBPROTOCOL, CloseCode, decodeFrame, encodeClientMessage, isFrame, parseServerMessage } from '@webmon/protocol';",
    external: [],
    zodFree: true,
    // 15.5 kB since array views (protocol 1.3): a client checks the view fields it writes and reads (+1.5 kB).
    minified: 15_500,
    gzipped: 5_800,
  },
  {
    label: '@webmon/napari',
    readme: '@webmon/napari',
    // What a widget or page needs to find napari's topics; the schemas and payload checks bring zod.
    code: "export { NapariSchemaId, NapariTopics, napariTopicNames } from '@webmon/napari';",
    external: [],
    zodFree: true,
    minified: 2_000,
    gzipped: 1_000,
  },
  {
    label: '@webmon/page-kit',
    readme: '@webmon/page-kit',
    code: "export * from '@webmon/page-kit';",
    external: [],
    zodFree: true,
    minified: 3_800,
    gzipped: 1_800,
  },
  {
    label: '@webmon/page-kit/host',
    readme: '@webmon/page-kit',
    code: "export * from '@webmon/page-kit/host';",
    external: [],
    zodFree: true,
    minified: 7_800,
    gzipped: 3_300,
  },
  {
    label: '@webmon/tile-viewer',
    readme: '@webmon/tile-viewer',
    code: "export * from '@webmon/tile-viewer';",
    external: ['three'],
    zodFree: true,
    minified: 33_000,
    gzipped: 12_000,
  },
  {
    label: '@webmon/image-view',
    readme: '@webmon/image-view',
    code: "export * from '@webmon/image-view';",
    external: [],
    zodFree: true,
    // The render worker's script (the renderers again, ~9 kB) is inlined as a string: no second file to serve.
    minified: 34_000,
    gzipped: 11_500,
  },
  {
    label: '@webmon/loader-charts',
    readme: '@webmon/loader-charts',
    code: "export * from '@webmon/loader-charts';",
    external: ['vega', 'vega-lite', 'vega-embed'],
    zodFree: true,
    // 28 kB since the worker mode: the page's half of it (messages to the worker, fallback, placeholder canvases; +5 kB).
    minified: 28_000,
    gzipped: 10_000,
  },
  {
    label: '@webmon/loader-charts/charts-worker.js',
    readme: '@webmon/loader-charts',
    // The charts' worker, a second file the page loads (`new URL('./charts-worker.js', import.meta.url)`): Vega
    // and Vega-Lite inside (~800 kB of it), since a worker cannot use the page's copies. Only pages that run
    // the charts in a worker fetch it; the page's own bundle does not grow.
    code: "import '@webmon/loader-charts/charts-worker.js';",
    workerEntry: true,
    external: [],
    zodFree: true,
    minified: 900_000,
    gzipped: 320_000,
  },
  {
    label: '@webmon/time-series',
    readme: '@webmon/time-series',
    code: "export * from '@webmon/time-series';",
    // uPlot is a dependency, not a peer (small, and the chart is its only user on a page): it is in the bundle.
    external: [],
    zodFree: true,
    minified: 72_000,
    gzipped: 31_000,
  },
  {
    label: '@webmon/page-explorer',
    readme: '@webmon/page-explorer',
    // A page package is one self-contained module: page-kit, @webmon/time-series with uPlot (~50 kB) and
    // @webmon/image-view (its render worker inlined) inside, nothing external (webmon serves the file as it is).
    code: "export * from '@webmon/page-explorer';",
    external: [],
    zodFree: true,
    minified: 132_000,
    gzipped: 52_000,
  },
];
