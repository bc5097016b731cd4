/** Pickle codec: decode CPython pickles (protocols 0–5) to data, encode plain data for CPython. */

// decoding
export { decodePickle, decodePickleTakingOwnership, PICKLE_DECODE_DEFAULTS, type PickleDecodeOptions } from './decoder.js';

// encoding
export { encodePickle, PICKLE_ENCODE_DEFAULTS, type PickleEncodeOptions } from './encoder.js';

// errors
export { PickleError, type PickleErrorCode } from './errors.js';

// value model
export {
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
  type NumericTypedArray,
  type NumpyField,
  type PyEncodable,
  type PyValue,
} from './values.js';
