/**
 * What REDUCE / NEWOBJ / INST / OBJ / BUILD mean for each global, as data.
 *
 * Safety: a pickle names callables by `module.name`. Python would import and call them; here a
 * short whitelist of well-known constructors is *interpreted* (their result is rebuilt from the
 * arguments as plain data) and every other name produces an inert `PyObject` record. No name is
 * ever resolved to code, imported, evaluated or instantiated.
 */
import { ShmReaderErrorCode } from '../errors.js';
import { PY2_GLOBAL_NAMES, PY2_MODULE_NAMES } from './compat-names.js';
import { PickleError } from './errors.js';
import {
  applyDTypeState,
  applyNdArrayState,
  dtypeFromReduceArgs,
  emptyNdArray,
  ndarrayFromBuffer,
  scalarFromReduceArgs,
} from './numpy.js';
import { NdArray, NumpyDType, PyException, PyGlobal, PyObject, PyToken, PyTuple, tupleFrom, type PyValue } from './values.js';

function malformed(message: string): PickleError {
  return new PickleError(ShmReaderErrorCode.PICKLE_MALFORMED, message);
}

function unsupported(message: string): PickleError {
  return new PickleError(ShmReaderErrorCode.PICKLE_UNSUPPORTED, message);
}

/** Names a global as CPython's `find_class` would see it (with the protocol 0–2 renames). */
export function makeGlobal(module: string, name: string, protocol: number): PyGlobal {
  if (protocol < 3) {
    const exact = PY2_GLOBAL_NAMES.get(`${module}.${name}`);
    if (exact !== undefined) return new PyGlobal(exact[0], exact[1]);
    const renamed = PY2_MODULE_NAMES.get(module);
    if (renamed !== undefined) return new PyGlobal(renamed, name);
  }
  return new PyGlobal(module, name);
}

/** Exception classes reconstructed as `PyException` (all of `builtins` plus the queue/multiprocessing ones). */
const BUILTIN_EXCEPTIONS = new Set(
  (
    'BaseException Exception ArithmeticError AssertionError AttributeError BlockingIOError BrokenPipeError ' +
    'BufferError ChildProcessError ConnectionAbortedError ConnectionError ConnectionRefusedError ' +
    'ConnectionResetError EOFError EnvironmentError FileExistsError FileNotFoundError FloatingPointError ' +
    'GeneratorExit IOError ImportError IndentationError IndexError InterruptedError IsADirectoryError KeyError ' +
    'KeyboardInterrupt LookupError MemoryError ModuleNotFoundError NameError NotADirectoryError ' +
    'NotImplementedError OSError OverflowError PermissionError ProcessLookupError RecursionError ReferenceError ' +
    'RuntimeError StopAsyncIteration StopIteration SyntaxError SystemError SystemExit TabError TimeoutError ' +
    'TypeError UnboundLocalError UnicodeDecodeError UnicodeEncodeError UnicodeError UnicodeTranslateError ' +
    'ValueError ZeroDivisionError Warning UserWarning DeprecationWarning PendingDeprecationWarning SyntaxWarning ' +
    'RuntimeWarning FutureWarning ImportWarning UnicodeWarning BytesWarning ResourceWarning EncodingWarning ' +
    'BaseExceptionGroup ExceptionGroup PythonFinalizationError'
  ).split(' '),
);

const OTHER_EXCEPTIONS = new Set([
  '_queue.Empty',
  'queue.Empty',
  'queue.Full',
  'multiprocessing.managers.RemoteError',
  'multiprocessing.context.ProcessError',
  'multiprocessing.context.BufferTooShort',
  'multiprocessing.context.TimeoutError',
  'multiprocessing.context.AuthenticationError',
]);

/**
 * `OSError(errno, strerror, ...)` returns the errno's subclass in CPython (PEP 3151); protocol 0–2
 * pickles name only `OSError` (Python 2 had no subclasses), so the subclass is recovered the same
 * way. Errno values are Linux's (the platform napari's manager runs on here).
 */
const OSERROR_SUBCLASS: ReadonlyMap<number, string> = new Map([
  [11, 'BlockingIOError'], // EAGAIN / EWOULDBLOCK
  [114, 'BlockingIOError'], // EALREADY
  [115, 'BlockingIOError'], // EINPROGRESS
  [10, 'ChildProcessError'], // ECHILD
  [32, 'BrokenPipeError'], // EPIPE
  [108, 'BrokenPipeError'], // ESHUTDOWN
  [103, 'ConnectionAbortedError'], // ECONNABORTED
  [111, 'ConnectionRefusedError'], // ECONNREFUSED
  [104, 'ConnectionResetError'], // ECONNRESET
  [17, 'FileExistsError'], // EEXIST
  [2, 'FileNotFoundError'], // ENOENT
  [21, 'IsADirectoryError'], // EISDIR
  [20, 'NotADirectoryError'], // ENOTDIR
  [4, 'InterruptedError'], // EINTR
  [13, 'PermissionError'], // EACCES
  [1, 'PermissionError'], // EPERM
  [3, 'ProcessLookupError'], // ESRCH
  [110, 'TimeoutError'], // ETIMEDOUT
]);

/** Modules of OTHER_EXCEPTIONS: most globals (numpy's, for one) are ruled out without building their qualified name. */
const OTHER_EXCEPTION_MODULES = new Set([...OTHER_EXCEPTIONS].map((name) => name.slice(0, name.lastIndexOf('.'))));

function isException(g: PyGlobal): boolean {
  if (g.module === 'builtins') return BUILTIN_EXCEPTIONS.has(g.name);
  return OTHER_EXCEPTION_MODULES.has(g.module) && OTHER_EXCEPTIONS.has(`${g.module}.${g.name}`);
}

const TOKEN = 'multiprocessing.managers.Token';

function isNumpyModule(module: string, submodule: 'multiarray' | 'numeric'): boolean {
  return module === `numpy.core.${submodule}` || module === `numpy._core.${submodule}`;
}

function itemsOf(value: PyValue | undefined, what: string): PyValue[] {
  if (Array.isArray(value)) return value;
  if (value instanceof Set) return [...value];
  throw unsupported(`${what} of a ${describe(value)} (only lists, tuples and sets are interpreted)`);
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value !== 'object') return typeof value;
  return value.constructor?.name ?? 'object';
}

function latin1Bytes(text: string, what: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff) throw malformed(`${what}: character U+${code.toString(16)} is not latin-1`);
    out[i] = code;
  }
  return out;
}

/** `_codecs.encode(text, encoding)`: how protocol 0–2 pickles write `bytes`. */
function codecsEncode(args: PyTuple): PyValue {
  const [text, encoding] = args;
  if (typeof text !== 'string') throw malformed('_codecs.encode expects a str');
  const name = typeof encoding === 'string' ? encoding.toLowerCase().replace(/_/g, '-') : 'utf-8';
  if (name === 'latin1' || name === 'latin-1' || name === 'iso-8859-1' || name === 'l1') return latin1Bytes(text, '_codecs.encode');
  if (name === 'ascii') {
    if (/[^\x00-\x7f]/.test(text)) throw malformed('_codecs.encode: text is not ascii');
    return latin1Bytes(text, '_codecs.encode');
  }
  if (name === 'utf-8' || name === 'utf8') return new TextEncoder().encode(text);
  return new PyObject('_codecs', 'encode', args);
}

function bytesLike(args: PyTuple, what: string): Uint8Array {
  const [source, encoding] = args;
  if (source === undefined) return new Uint8Array(0);
  if (source instanceof Uint8Array) return source.slice();
  if (typeof source === 'string' && typeof encoding === 'string') {
    const encoded = codecsEncode(tupleFrom([source, encoding], 0, 2));
    if (encoded instanceof Uint8Array) return encoded;
  }
  if (Array.isArray(source)) {
    const out = new Uint8Array(source.length);
    source.forEach((b, i) => {
      if (typeof b !== 'number' || !Number.isInteger(b) || b < 0 || b > 255) throw malformed(`${what}: items must be 0..255`);
      out[i] = b;
    });
    return out;
  }
  throw unsupported(`${what} of a ${describe(source)}`);
}

function mapFromPairs(source: PyValue | undefined): Map<PyValue, PyValue> {
  const map = new Map<PyValue, PyValue>();
  if (source === undefined || source === null) return map;
  if (source instanceof Map) {
    for (const [k, v] of source) map.set(k, v);
    return map;
  }
  for (const pair of itemsOf(source, 'dict()')) {
    if (!Array.isArray(pair) || pair.length !== 2) throw malformed('dict() items must be (key, value) pairs');
    map.set(pair[0] ?? null, pair[1] ?? null);
  }
  return map;
}

/** `cls.__new__(cls, *args)` (NEWOBJ, NEWOBJ_EX, `copyreg.__newobj__`, `copyreg._reconstructor`). */
export function newObject(cls: PyValue, args: PyTuple, kwargs?: Map<PyValue, PyValue>): PyValue {
  if (!(cls instanceof PyGlobal)) throw unsupported(`NEWOBJ of a ${describe(cls)} (only classes named by a global are supported)`);
  const qualified = `${cls.module}.${cls.name}`;
  if (qualified === TOKEN) return new PyToken('', ['', 0], '');
  if (isException(cls)) return new PyException(cls.module, cls.name, args);
  if (qualified === 'builtins.set' || qualified === 'builtins.frozenset') return new Set<PyValue>();
  if (qualified === 'builtins.list') return [];
  if (qualified === 'builtins.dict' || qualified === 'collections.OrderedDict') return new Map<PyValue, PyValue>();
  const object = new PyObject(cls.module, cls.name, args);
  if (kwargs !== undefined && kwargs.size > 0) object.kwargs = kwargs;
  return object;
}

/**
 * Calling a decoded `functools.partial`: CPython writes objects whose `__getnewargs_ex__` has keyword
 * arguments, at protocols 2–3, as `partial(getattr(object, '__new__'), cls, **kwargs)()`. That one form
 * is `cls.__new__(cls, *args, **kwargs)` (what NEWOBJ_EX means); a partial of a global is that global's call.
 */
function callPartial(partial: PyObject, extra: PyTuple): PyValue {
  const state = partial.state;
  const [func, bound, keywords] = Array.isArray(state) ? state : [partial.args[0], [], null];
  const positional = [...(Array.isArray(bound) ? bound : []), ...extra];
  const kwargs = keywords instanceof Map ? (keywords as Map<PyValue, PyValue>) : undefined;
  if (func instanceof PyGlobal && (kwargs === undefined || kwargs.size === 0)) {
    return callGlobal(func, tupleFrom(positional, 0, positional.length));
  }
  const isObjectNew =
    func instanceof PyObject &&
    func.qualifiedName === 'builtins.getattr' &&
    func.args[1] === '__new__' &&
    func.args[0] instanceof PyGlobal;
  if (isObjectNew) return newObject(positional[0] ?? null, tupleFrom(positional, 1, positional.length), kwargs);
  throw unsupported('calling a functools.partial of something other than a global or object.__new__');
}

/** `callable(*args)` for REDUCE / INST / OBJ. */
export function callGlobal(callable: PyValue, args: PyTuple): PyValue {
  if (callable instanceof PyObject && callable.qualifiedName === 'functools.partial') return callPartial(callable, args);
  if (!(callable instanceof PyGlobal)) {
    throw unsupported(`REDUCE of a ${describe(callable)} (only callables named by a global are supported)`);
  }
  const { module, name } = callable;
  if (isException(callable)) {
    const errno = args[0];
    if (module === 'builtins' && (name === 'OSError' || name === 'IOError' || name === 'EnvironmentError') && args.length >= 2 && typeof errno === 'number') {
      return new PyException(module, OSERROR_SUBCLASS.get(errno) ?? 'OSError', args);
    }
    return new PyException(module, name, args);
  }
  switch (module) {
    case 'builtins':
      switch (name) {
        case 'set':
        case 'frozenset':
          return new Set(args.length === 0 ? [] : itemsOf(args[0], name));
        case 'list':
          // dict views (keys/values/items) reach the wire as builtins.list(list) (WIRE §3.1).
          return args.length === 0 ? [] : Array.from(itemsOf(args[0], 'list()'));
        case 'tuple':
        {
          const items = args.length === 0 ? [] : itemsOf(args[0], 'tuple()');
          return tupleFrom(items, 0, items.length);
        }
        case 'dict':
          return mapFromPairs(args[0]);
        case 'bytearray':
        case 'bytes':
          return bytesLike(args, name);
        default:
          break;
      }
      break;
    case '_codecs':
      if (name === 'encode') return codecsEncode(args);
      break;
    case 'copyreg':
      if (name === '_reconstructor') {
        // copyreg._reconstructor(cls, base, state): protocol 0/1 form of `object.__new__(cls)` (+ base init).
        const [cls, base, state] = args;
        const baseIsObject = base instanceof PyGlobal && base.module === 'builtins' && base.name === 'object';
        return newObject(cls ?? null, baseIsObject || state === null || state === undefined ? new PyTuple() : tupleFrom([state], 0, 1));
      }
      if (name === '__newobj__') return newObject(args[0] ?? null, tupleFrom(args, 1, args.length));
      if (name === '__newobj_ex__') {
        const [cls, positional, kwargs] = args;
        const items = itemsOf(positional, '__newobj_ex__');
        return newObject(cls ?? null, tupleFrom(items, 0, items.length), kwargs instanceof Map ? kwargs : undefined);
      }
      break;
    case 'collections':
      if (name === 'OrderedDict') return mapFromPairs(args[0]);
      // defaultdict(factory[, items]): the factory is dropped; the data is the dict.
      if (name === 'defaultdict') return mapFromPairs(args[1]);
      break;
    case 'multiprocessing.managers':
      if (name === 'Token' && args.length === 3) {
        const token = new PyToken('', ['', 0], '');
        applyBuild(token, args);
        return token;
      }
      break;
    case 'numpy':
      if (name === 'dtype') return dtypeFromReduceArgs(args);
      break;
    default:
      if (isNumpyModule(module, 'multiarray')) {
        if (name === '_reconstruct') {
          const cls = args[0];
          return emptyNdArray(cls instanceof PyGlobal ? `${cls.module}.${cls.name}` : 'numpy.ndarray');
        }
        if (name === 'scalar') return scalarFromReduceArgs(args);
      }
      if (isNumpyModule(module, 'numeric') && name === '_frombuffer') return ndarrayFromBuffer(args);
      break;
  }
  return new PyObject(module, name, args);
}

function isEmptyState(state: PyValue): boolean {
  return state === null || (state instanceof Map && state.size === 0);
}

/** BUILD: apply `state` to `target` (what `__setstate__` or a `__dict__` update would do). */
export function applyBuild(target: PyValue, state: PyValue): void {
  if (target instanceof PyException && target.state === undefined && isEmptyState(state)) {
    // Some CPython versions write BUILD({}) for an exception without attributes: nothing to keep.
    return;
  }
  if (target instanceof PyObject || target instanceof PyException) {
    if (target.state instanceof Map && state instanceof Map) for (const [k, v] of state) target.state.set(k, v);
    else target.state = state;
    return;
  }
  if (target instanceof NumpyDType) return applyDTypeState(target, state);
  if (target instanceof NdArray) return applyNdArrayState(target, state);
  if (target instanceof PyToken) {
    // Token.__getstate__ is the tuple (typeid, (host, port), id) (WIRE §2.9).
    const [typeid, address, id] = Array.isArray(state) ? state : [];
    if (typeof typeid !== 'string' || typeof id !== 'string' || !Array.isArray(address)) {
      throw malformed('Token state must be (typeid: str, address, id: str)');
    }
    const [host, port] = address;
    if (address.length !== 2 || typeof host !== 'string' || typeof port !== 'number') {
      throw unsupported('Token address is not (host, port) (a unix-socket manager?)');
    }
    target.typeid = typeid;
    target.address = [host, port];
    target.id = id;
    return;
  }
  // Built-in containers reconstructed as JS values: an empty instance dict is a no-op; real
  // attributes on a dict/list/set/bytearray subclass have nowhere to go, so say so rather than drop them.
  if (isEmptyState(state)) return;
  throw unsupported(`BUILD with state on a ${describe(target)}`);
}
