/**
 * `@webmon/shm-reader`: talk to a running CPython program from Node — the `multiprocessing` manager
 * protocol (authentication, framing, pickle) and Python shared memory — with no Python in this process.
 * (napari's monitor client, built on this, is `@webmon/napari/node`.)
 */

// errors
export { ShmReaderError, ShmReaderErrorCode, isShmReaderError } from './errors.js';

// connection: framing + HMAC handshake
export {
  Connection,
  CONNECTION_DEFAULTS,
  FrameReader,
  encodeFrame,
  answerChallenge,
  makeChallenge,
  verifyResponse,
  type ConnectOptions,
  type FrameHandler,
  type FrameReaderHandlers,
  type ChallengeForm,
} from './connection/index.js';

// manager client
export {
  ManagerClient,
  MANAGER_DEFAULTS,
  Proxy,
  DictProxy,
  QueueProxy,
  EventProxy,
  ServingConnection,
  PythonExceptionError,
  QueueEmptyError,
  QueueShutDownError,
  RemoteError,
  encodeRequest,
  interpretReply,
  type ManagerClientOptions,
  type CreatedObject,
  type CallOptions,
  type Kwargs,
} from './manager/index.js';

// Python values → plain JSON (int keys as decimal strings, ndarrays as nested lists, bounded)
export {
  toJsonData,
  toJsonKey,
  createJsonBudget,
  TO_JSON_DEFAULTS,
  type JsonBudget,
  type JsonData,
  type JsonSize,
  type ToJsonLimits,
} from './json/to-json.js';

// pickle codec
export {
  decodePickle,
  encodePickle,
  PICKLE_DECODE_DEFAULTS,
  PICKLE_ENCODE_DEFAULTS,
  PickleError,
  NdArray,
  NumpyDType,
  PyException,
  PyFloat,
  PyGlobal,
  PyObject,
  PyToken,
  PyTuple,
  pyFloat,
  pyTuple,
  type PickleDecodeOptions,
  type PickleEncodeOptions,
  type PickleErrorCode,
  type NumericTypedArray,
  type NumpyField,
  type PyEncodable,
  type PyValue,
} from './pickle/index.js';

// shared memory: blocks, ShareableList, numpy arrays in shm
export {
  openSharedMemory,
  normalizeShmName,
  SharedMemoryBlock,
  nativeAddonStatus,
  BufferByteSource,
  readShareableList,
  decodeShareableList,
  parseShareableListLayout,
  ShareableListReader,
  parseDType,
  parseTypestr,
  viewNdArray,
  readRecord,
  specFromArrayInterface,
  type OpenSharedMemoryOptions,
  type ShmAccess,
  type NativeAddonStatus,
  type ShmByteSource,
  type ShareableValue,
  type ShareableListLayout,
  type ShareableListOptions,
  type ShareableListVariant,
  type ShareableSlot,
  type DType,
  type DTypeField,
  type DTypeKind,
  type DTypeSpec,
  type DTypeDict,
  type DescrEntry,
  type ByteOrder,
  type ParseDTypeOptions,
  type ShmNdArray,
  type NdArraySpec,
  type NdArrayViewOptions,
  type ShmTypedArray,
  type RecordValue,
} from './shm/index.js';

// shared-memory ring: bulk arrays from a Python writer (python/webmon_ring.py)
export {
  RingReader,
  RING_READER_DEFAULTS,
  RingError,
  viewForDtype,
  hasTypedView,
  RING_MAGIC,
  RING_VERSION,
  RING_HEADER_SIZE,
  SLOT_HEADER_SIZE,
  ringWriterPythonPath,
  type RingReaderOptions,
  type RingRecord,
  type RingStats,
  type RingEvent,
  type WriterDeathReason,
  type RingTypedArray,
  type RingHeader,
} from './ring/index.js';
