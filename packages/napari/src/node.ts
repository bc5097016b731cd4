/**
 * `@webmon/napari/node`: the Node side of napari's monitor — the client of napari's
 * SharedMemoryManager (no Python in this process) and the bridge that maps it onto relay topics.
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
} from './node/client.js';
export { parseNapariClientConfig, encodeNapariClientConfig, type NapariClientConfig } from './node/config.js';
export { openNapariSharedList, type SharedListSource } from './node/shared-list.js';
export { createNapariBridge, NapariBridge, RINGS_KEY, type NapariAddress, type NapariBridgeCounters, type NapariBridgeOptions, type NapariBridgeState } from './node/bridge.js';
export { RingTopics, ringsFrom, type RingTopicStats } from './node/ring-topics.js';
export { silentLogger, type BridgeLogger } from './node/logger.js';
