/**
 * Proxies for the shared objects a manager hands out. Method names and arguments follow Python
 * (timeouts in seconds, `block` flags), so a CPython snippet translates line by line.
 */
import { randomUUID } from 'node:crypto';
import { ShmReaderError, ShmReaderErrorCode } from '../errors.js';
import type { PyEncodable, PyValue } from '../pickle/index.js';
import { PythonExceptionError } from './errors.js';
import type { CreatedObject, ProxyClient } from './proxy-client.js';
import type { Kwargs } from './reply.js';
import type { CallOptions } from './serving-connection.js';

/** Extra time granted beyond a Python-side timeout before the call itself times out. */
const BLOCKING_MARGIN_MS = 10_000;

/** Any shared object: call any exposed method by name. */
export class Proxy {
  readonly typeid: string;
  readonly ident: string;
  /** Method names the server exposes for this object (from `create`). */
  readonly exposed: readonly string[];

  constructor(
    protected readonly client: ProxyClient,
    created: CreatedObject,
  ) {
    this.typeid = created.typeid;
    this.ident = created.ident;
    this.exposed = created.exposed;
  }

  /** Calls `method(*args, **kwds)` on the shared connection. Non-exposed names get REMOTE_ERROR from the server. */
  call(method: string, args: readonly PyEncodable[] = [], kwds?: Kwargs, options?: CallOptions): Promise<PyValue> {
    return this.client.callMethod(this.ident, method, args, kwds, options);
  }

  /** Calls a method that may block, on a dedicated connection (see `ManagerClient.callBlocking`). */
  callBlocking(method: string, args: readonly PyEncodable[] = [], kwds?: Kwargs, timeoutSeconds?: number | null): Promise<PyValue> {
    const timeoutMs = timeoutSeconds === undefined || timeoutSeconds === null ? 0 : timeoutSeconds * 1000 + BLOCKING_MARGIN_MS;
    return this.client.callBlocking(this.ident, method, args, kwds, { timeoutMs });
  }

  /** The raw reply payload of a call (compare payloads to skip decoding unchanged values). */
  callRaw(method: string, args: readonly PyEncodable[] = [], kwds?: Kwargs, options?: CallOptions): Promise<Buffer> {
    return this.client.callMethodRaw(this.ident, method, args, kwds, options);
  }

  /** `str(obj)` through the server's `__str__` fallback. */
  async str(): Promise<string> {
    return String(await this.call('__str__'));
  }

  /** A full copy of the object (`#GETVALUE`); fails with REMOTE_ERROR for unpicklable ones (Queue, Event). */
  getValue(): Promise<PyValue> {
    return this.call('#GETVALUE');
  }

  protected has(method: string): boolean {
    return this.exposed.includes(method);
  }
}

/**
 * A `dict`. napari's dicts expose only `clear copy fromkeys get items keys pop popitem setdefault
 * update values` (no dunder methods), so `getItem`/`setItem`/`hasKey`/`size` use the dunder method
 * when exposed and otherwise an equivalent built from `get`/`update`/`keys`.
 */
export class DictProxy extends Proxy {
  get(key: PyEncodable, defaultValue: PyEncodable = null): Promise<PyValue> {
    return this.call('get', [key, defaultValue]);
  }

  /** The raw reply of `get(key)`; identical bytes mean an identical value. */
  getRaw(key: PyEncodable): Promise<Buffer> {
    return this.callRaw('get', [key]);
  }

  /** `d[key]`: throws PythonExceptionError `builtins.KeyError` if missing. */
  async getItem(key: PyEncodable): Promise<PyValue> {
    if (this.has('__getitem__')) return this.call('__getitem__', [key]);
    const missing = `<missing ${randomUUID()}>`;
    const value = await this.get(key, missing);
    if (value === missing) throw new PythonExceptionError('builtins', 'KeyError', [key as PyValue]);
    return value;
  }

  /** `d[key] = value`. */
  async setItem(key: PyEncodable, value: PyEncodable): Promise<void> {
    if (this.has('__setitem__')) await this.call('__setitem__', [key, value]);
    else await this.call('update', [new Map([[key, value]])]);
  }

  /** Alias of `setItem`. */
  set(key: PyEncodable, value: PyEncodable): Promise<void> {
    return this.setItem(key, value);
  }

  /** `key in d`. */
  async hasKey(key: PyEncodable): Promise<boolean> {
    if (this.has('__contains__')) return (await this.call('__contains__', [key])) === true;
    const missing = `<missing ${randomUUID()}>`;
    return (await this.get(key, missing)) !== missing;
  }

  /** `len(d)`. */
  async size(): Promise<number> {
    if (this.has('__len__')) return Number(await this.call('__len__'));
    return (await this.keys()).length;
  }

  async keys(): Promise<PyValue[]> {
    return asArray(await this.call('keys'), 'keys');
  }

  async values(): Promise<PyValue[]> {
    return asArray(await this.call('values'), 'values');
  }

  /** `(key, value)` pairs (Python tuples). */
  async items(): Promise<PyValue[]> {
    return asArray(await this.call('items'), 'items');
  }

  async update(entries: ReadonlyMap<PyEncodable, PyEncodable> | { readonly [key: string]: PyEncodable }): Promise<void> {
    await this.call('update', [entries as PyEncodable]);
  }

  /** `d.pop(key[, default])`: without a default a missing key throws `builtins.KeyError`. */
  pop(key: PyEncodable, ...defaultValue: [] | [PyEncodable]): Promise<PyValue> {
    return this.call('pop', [key, ...defaultValue]);
  }

  setDefault(key: PyEncodable, defaultValue: PyEncodable = null): Promise<PyValue> {
    return this.call('setdefault', [key, defaultValue]);
  }

  async clear(): Promise<void> {
    await this.call('clear');
  }

  /** A full copy (`d.copy()`), as a Map. */
  copy(): Promise<PyValue> {
    return this.call('copy');
  }

  /** The raw reply of `copy()`: the whole dict in one round trip; identical bytes mean an identical dict. */
  copyRaw(): Promise<Buffer> {
    return this.callRaw('copy');
  }
}

/** A `queue.Queue`. Blocking `get`/`put` run on a dedicated connection. */
export class QueueProxy extends Proxy {
  /**
   * `q.get(block, timeout)`. Blocking gets (the default) run on their own connection; an empty queue
   * at the timeout throws QueueEmptyError (code QUEUE_EMPTY). `timeout` is in seconds; null = forever.
   */
  get(block = true, timeout: number | null = null): Promise<PyValue> {
    if (!block) return this.getNowait();
    return this.callBlocking('get', [true, timeout], undefined, timeout);
  }

  /** `q.get_nowait()`: throws QueueEmptyError when empty. */
  getNowait(): Promise<PyValue> {
    return this.call('get_nowait');
  }

  /**
   * `q.put(item)` on the shared connection, exactly like CPython's proxy. It blocks the server only for a
   * full bounded queue (napari's queues are unbounded); use `putBlocking` for bounded queues.
   */
  async put(item: PyEncodable): Promise<void> {
    await this.call('put', [item]);
  }

  /** `q.put(item, True, timeout)` on a dedicated connection, for bounded queues that may be full. */
  async putBlocking(item: PyEncodable, timeout: number | null = null): Promise<void> {
    await this.callBlocking('put', [item, true, timeout], undefined, timeout);
  }

  async putNowait(item: PyEncodable): Promise<void> {
    await this.call('put_nowait', [item]);
  }

  async qsize(): Promise<number> {
    return Number(await this.call('qsize'));
  }

  async empty(): Promise<boolean> {
    return (await this.call('empty')) === true;
  }

  async full(): Promise<boolean> {
    return (await this.call('full')) === true;
  }

  async taskDone(): Promise<void> {
    await this.call('task_done');
  }

  /**
   * `q.shutdown(immediate)` — Python 3.13+. Afterwards `get` on an empty queue throws
   * QueueShutDownError (code QUEUE_SHUT_DOWN). Older servers do not expose it: REMOTE_ERROR.
   */
  async shutdown(immediate = false): Promise<void> {
    if (!this.has('shutdown')) {
      throw new ShmReaderError(ShmReaderErrorCode.REMOTE_ERROR, `${this.typeid}: this server's Queue has no shutdown (Python < 3.13)`);
    }
    await this.call('shutdown', [immediate]);
  }
}

/** A `threading.Event`. `wait` runs on a dedicated connection. */
export class EventProxy extends Proxy {
  async isSet(): Promise<boolean> {
    return (await this.call('is_set')) === true;
  }

  async set(): Promise<void> {
    await this.call('set');
  }

  async clear(): Promise<void> {
    await this.call('clear');
  }

  /** `e.wait(timeout)`: true if the event is set. `timeout` in seconds; null = forever. */
  async wait(timeout: number | null = null): Promise<boolean> {
    return (await this.callBlocking('wait', [timeout], undefined, timeout)) === true;
  }
}

function asArray(value: PyValue, method: string): PyValue[] {
  if (Array.isArray(value)) return value;
  throw new ShmReaderError(ShmReaderErrorCode.MALFORMED_REPLY, `${method}: expected a list`);
}
