// @webmon/page-kit — the contract between the webmon app and a page package.

// Defining a page
export { definePage, definePageFor, pageFromModule, topicAllowed, PAGE_CONTRACT_VERSION } from './page.js';
export { PAGE_ID_PATTERN, RESERVED_PAGE_IDS } from './rules.js';
export type {
  CommandOptions,
  ConnectionInfo,
  DataInfo,
  GapInfo,
  Page,
  PageContext,
  PageDefinition,
  PageDisposer,
  PayloadOf,
  SocketState,
  SourceState,
  SubscribeOptions,
  TopicPayloadMap,
  TopicsChange,
  TopicsOf,
  Unsubscribe,
} from './page.js';

// Page packages: metadata from package.json, without running the page's code
export { checkPageMatchesManifest, readPageManifest } from './manifest.js';
export type { PageManifest } from './manifest.js';

// Errors
export { PageError, PageErrorCode, isPageError } from './errors.js';
