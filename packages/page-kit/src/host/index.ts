// @webmon/page-kit/host — runs webmon pages in a browser: for the webmon app and any other tool.

// The host
export { createPageHost, showPageError } from './page-host.js';
export type { MountedPage, PageHost, PageHostOptions, PageModuleRef } from './page-host.js';
export type { PageHostClient } from './types.js';

// The manifest a server embeds in each page
export { readHostManifest } from './manifest.js';
export type { HostManifest, HostManifestPage } from './manifest.js';
