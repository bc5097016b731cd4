// Shared memory: attach to Python SharedMemory blocks, read ShareableLists and numpy arrays.
// Re-exported (named) from the package index by src/index.ts.

// blocks
export { openSharedMemory, normalizeShmName, SharedMemoryBlock } from './block.js';
export type { OpenSharedMemoryOptions, ShmAccess } from './block.js';
export { nativeAddonStatus } from './native.js';
export type { NativeAddonStatus } from './native.js';
export { BufferByteSource } from './source.js';
export type { ShmByteSource } from './source.js';

// ShareableList
export { readShareableList, decodeShareableList, parseShareableListLayout, ShareableListReader } from './shareable-list.js';
export type {
  ShareableValue,
  ShareableListLayout,
  ShareableListOptions,
  ShareableListVariant,
  ShareableSlot,
} from './shareable-list.js';

// numpy arrays
export { parseDType, parseTypestr } from './dtype.js';
export type { DType, DTypeField, DTypeKind, DTypeSpec, DTypeDict, DescrEntry, ByteOrder, ParseDTypeOptions } from './dtype.js';
export { viewNdArray, readRecord, specFromArrayInterface } from './ndarray.js';
export type { ShmNdArray, NdArraySpec, NdArrayViewOptions, ShmTypedArray, RecordValue } from './ndarray.js';
