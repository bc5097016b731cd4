import { ShmReaderError, ShmReaderErrorCode } from '../errors.js';
import type { PyValue } from '../pickle/index.js';

/**
 * A Python exception raised by the remote method (`#ERROR` reply), e.g. `builtins.KeyError('x')`.
 * `module`, `pythonName` and `args` come from the pickled exception; nothing was executed to get them.
 */
export class PythonExceptionError extends ShmReaderError {
  override name = 'PythonExceptionError';
  /** Python module of the exception class, e.g. `builtins`, `_queue`. */
  readonly module: string;
  /** Python class name, e.g. `KeyError`. */
  readonly pythonName: string;
  /** The exception's `args`. */
  readonly args: PyValue[];

  constructor(module: string, pythonName: string, args: PyValue[], code: ShmReaderErrorCode = ShmReaderErrorCode.PYTHON_EXCEPTION) {
    super(code, `Python raised ${module}.${pythonName}(${args.map(describeArg).join(', ')})`);
    this.module = module;
    this.pythonName = pythonName;
    this.args = args;
  }

  get qualifiedName(): string {
    return `${this.module}.${this.pythonName}`;
  }
}

/** `queue.Empty` (`_queue.Empty`): `get_nowait()` or `get(True, timeout)` found nothing. Code QUEUE_EMPTY. */
export class QueueEmptyError extends PythonExceptionError {
  override name = 'QueueEmptyError';
  constructor(module: string, args: PyValue[]) {
    super(module, 'Empty', args, ShmReaderErrorCode.QUEUE_EMPTY);
  }
}

/** `queue.ShutDown` (3.13+): the queue was shut down. Code QUEUE_SHUT_DOWN. */
export class QueueShutDownError extends PythonExceptionError {
  override name = 'QueueShutDownError';
  constructor(module: string, args: PyValue[]) {
    super(module, 'ShutDown', args, ShmReaderErrorCode.QUEUE_SHUT_DOWN);
  }
}

/**
 * The server itself failed (`#TRACEBACK`: unknown method, unknown ident, bad typeid, …) or could not
 * pickle the result (`#UNSERIALIZABLE`). `remoteTraceback` is Python's formatted traceback. Code REMOTE_ERROR.
 */
export class RemoteError extends ShmReaderError {
  override name = 'RemoteError';
  readonly kind: '#TRACEBACK' | '#UNSERIALIZABLE';
  readonly remoteTraceback: string;

  constructor(kind: '#TRACEBACK' | '#UNSERIALIZABLE', remoteTraceback: string, context: string) {
    const lastLine = remoteTraceback.trim().split('\n').pop() ?? '';
    super(ShmReaderErrorCode.REMOTE_ERROR, `${context}: server replied ${kind}: ${lastLine}`);
    this.kind = kind;
    this.remoteTraceback = remoteTraceback;
  }
}

function describeArg(value: PyValue): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === null) return 'None';
  return '…';
}
