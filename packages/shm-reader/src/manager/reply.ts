/**
 * Requests `(ident, method, args, kwds)` and replies `(kind, result)` of `multiprocessing.managers`
 * (WIRE §2.2–2.3).
 */
import { ShmReaderError, ShmReaderErrorCode } from '../errors.js';
import {
  PyException,
  PyObject,
  PyTuple,
  decodePickle,
  decodePickleTakingOwnership,
  encodePickle,
  pyTuple,
  type PickleDecodeOptions,
  type PyEncodable,
  type PyValue,
} from '../pickle/index.js';
import { PythonExceptionError, QueueEmptyError, QueueShutDownError, RemoteError } from './errors.js';

export type Kwargs = ReadonlyMap<PyEncodable, PyEncodable> | { readonly [key: string]: PyEncodable };

/** Pickles one request. `ident` is null for server functions. */
export function encodeRequest(ident: string | null, method: string, args: readonly PyEncodable[], kwds: Kwargs = {}): Uint8Array {
  return encodePickle(pyTuple(ident, method, tupleOf(args), kwds as PyValue) as PyEncodable);
}

function tupleOf(items: readonly PyEncodable[]): PyTuple {
  const tuple = new PyTuple();
  for (const item of items) tuple.push(item as PyValue);
  return tuple;
}

/**
 * Decodes a reply and returns the `#RETURN` value, or throws the typed error for the other kinds.
 * `context` names the call for error messages (e.g. `napari_messages.get`).
 */
export function interpretReply(payload: Uint8Array, context: string, decodeOptions?: PickleDecodeOptions): PyValue {
  return interpretDecoded(decodePickle(payload, decodeOptions), context);
}

/**
 * @internal `interpretReply` for a reply frame nobody else holds (the connection hands each frame over in
 * a buffer of its own, and the call's caller never sees it): numpy data and large bytes become views of
 * the frame instead of copies (`decodePickleTakingOwnership`).
 */
export function interpretOwnedReply(payload: Uint8Array, context: string, decodeOptions?: PickleDecodeOptions): PyValue {
  return interpretDecoded(decodePickleTakingOwnership(payload, decodeOptions), context);
}

function interpretDecoded(reply: PyValue, context: string): PyValue {
  if (!Array.isArray(reply) || reply.length !== 2 || typeof reply[0] !== 'string') {
    throw new ShmReaderError(ShmReaderErrorCode.MALFORMED_REPLY, `${context}: reply is not a (kind, result) pair`);
  }
  const kind = reply[0];
  const result = reply[1] as PyValue;
  switch (kind) {
    case '#RETURN':
    case '#PROXY': // (exposed, Token): returned as data; napari's registrations never produce it
      return result;
    case '#ERROR':
      throw exceptionError(result, context);
    case '#TRACEBACK':
    case '#UNSERIALIZABLE':
      throw new RemoteError(kind, typeof result === 'string' ? result : String(result), context);
    default:
      throw new ShmReaderError(ShmReaderErrorCode.MALFORMED_REPLY, `${context}: unknown reply kind ${JSON.stringify(kind)}`);
  }
}

function exceptionError(result: PyValue, context: string): ShmReaderError {
  if (result instanceof PyException || result instanceof PyObject) {
    const args = [...result.args];
    if (result instanceof PyException && result.isQueueEmpty) return new QueueEmptyError(result.module, args);
    if (result.name === 'ShutDown' && (result.module === 'queue' || result.module === '_queue')) {
      return new QueueShutDownError(result.module, args);
    }
    return new PythonExceptionError(result.module, result.name, args);
  }
  return new ShmReaderError(ShmReaderErrorCode.MALFORMED_REPLY, `${context}: #ERROR reply without an exception instance`);
}
