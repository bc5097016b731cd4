// Launching Debian's Chromium
export { CHROMIUM_ARGS, DEFAULT_CHROMIUM_PATH, GPU_COMPOSITING_ARGS, chromiumExecutablePath, launchChromium } from './launch.js';
export type { LaunchChromiumOptions } from './launch.js';

// Bundling a browser entry and serving it on a loopback port
export { bundleBrowserEntry, openPage, openTestSite, servePage } from './page-server.js';
export type { BundleOptions, OpenTestSiteOptions, PageOptions, PageServer, TestSite } from './page-server.js';

// A page playwright does not instrument (benchmarks pushing bytes through a page's WebSocket)
export { openBenchPage, openQuietPage } from './quiet-page.js';
export type { BenchPageOptions, PageScript, QuietPage, QuietPageOptions } from './quiet-page.js';

// Errors
export { BundleError, ChromiumNotFoundError, QuietPageError } from './errors.js';
