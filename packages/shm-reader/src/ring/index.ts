/** Shared-memory ring: bulk arrays from a Python writer (`python/webmon_ring.py`) to Node readers. */
export { RingReader, RING_READER_DEFAULTS, type RingReaderOptions, type RingRecord, type RingStats, type RingEvent } from './reader.js';
export { RingError, type WriterDeathReason } from './errors.js';
export { viewForDtype, hasTypedView, type RingTypedArray } from './dtype.js';
export { RING_MAGIC, RING_VERSION, RING_HEADER_SIZE, SLOT_HEADER_SIZE, type RingHeader } from './layout.js';
/** Absolute path of the shipped Python writer module, e.g. to put its folder on `PYTHONPATH`. */
export { ringWriterPythonPath } from './python-path.js';
