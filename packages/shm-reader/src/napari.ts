/**
 * `@webmon/shm-reader/napari`: a Node client for napari's experimental monitor.
 */
export {
  NapariClient,
  NAPARI_DEFAULTS,
  NAPARI_TYPEIDS,
  NAPARI_COMMAND_NAME,
  type NapariClientOptions,
  type NapariClientEvents,
  type NapariClientStats,
  type InvalidItem,
  type InvalidSource,
  type ShutdownInfo,
  type ShutdownReason,
  type SharedListFrame,
} from './napari/client.js';
export { parseNapariClientConfig, encodeNapariClientConfig, type NapariClientConfig } from './napari/config.js';
export { openNapariSharedList, type SharedListSource } from './napari/shared-list.js';
export { toJsonData, toJsonKey, type JsonData } from './napari/to-json.js';
export { ShmReaderError, ShmReaderErrorCode } from './errors.js';
