// @webmon/page-kit — the contract between the webmon app and a page package.

// Defining a page
export { definePage, definePageFor, pageFromModule, topicAllowed, PAGE_CONTRACT_VERSION, PAGE_ID_PATTERN, RESERVED_PAGE_IDS } from './page.js';
export type {
  CommandOptions,
  ConnectionInfo,
  DataInfo,
  Page,
  PageContext,
  PageDefinition,
  PageDisposer,
  PayloadOf,
  SocketState,
  SourceState,
  TopicPayloadMap,
  TopicsChange,
  TopicsOf,
  Unsubscribe,
} from './page.js';

// Errors
export { PageError, PageErrorCode } from './errors.js';
