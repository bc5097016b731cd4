// @webmon/page-kit — the contract between the webmon app and a page package.

// Defining a page
export { definePage, pageFromModule, PAGE_CONTRACT_VERSION, PAGE_ID_PATTERN, RESERVED_PAGE_IDS } from './page.js';
export type {
  ConnectionInfo,
  DataInfo,
  KnownTopic,
  Page,
  PageContext,
  PageDefinition,
  PageDisposer,
  PayloadOf,
  SocketState,
  SourceState,
  TopicPayloads,
  Unsubscribe,
} from './page.js';

// Errors
export { PageError, PageErrorCode } from './errors.js';
