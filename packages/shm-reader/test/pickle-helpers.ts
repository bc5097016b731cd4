/**
 * Test helpers for the pickle codec: the TS half of `fixtures/pickles/describe.py` (the same tagged
 * JSON for a decoded value) and discovery of the installed CPython interpreters.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  NdArray,
  NumpyDType,
  PyException,
  PyGlobal,
  PyObject,
  PyToken,
  PyTuple,
  type PyValue,
} from '../src/pickle/index.js';

export const FIXTURES = fileURLToPath(new URL('./fixtures/pickles/', import.meta.url));

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

export function floatBits(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x, false);
  return hex(new Uint8Array(view.buffer));
}

function describeDType(dtype: NumpyDType): Json {
  return {
    str: dtype.str,
    fields: dtype.fields ? dtype.fields.map((f) => [f.name, describeDType(f.dtype), f.offset]) : null,
    subarray: dtype.subarray ? [describeDType(dtype.subarray.base), dtype.subarray.shape] : null,
  };
}

/** JSON with sorted object keys (for stable comparisons and messages). */
export function stableJson(value: Json): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(value[k] as Json)}`).join(',')}}`;
}

type Tagged = { [key: string]: Json };

const isTagged = (value: Json): value is Tagged => value !== null && typeof value === 'object' && !Array.isArray(value);

const isSafe = (s: string): boolean => {
  const n = BigInt(s);
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER);
};

function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'object' && v !== null) return v.constructor.name;
  if (typeof v === 'string') return JSON.stringify(v.slice(0, 80));
  return String(v);
}

/**
 * Compares a decoded value with describe.py's description of the Python value. Returns null when they
 * match, else where and how they differ. A Python int must decode to a number when it is a safe
 * integer and to a bigint otherwise; a float must have the same IEEE bits; a tuple must be a PyTuple;
 * a dict a Map in the same order; bytes a plain Uint8Array (never a Buffer view of the input).
 */
export function mismatch(actual: unknown, expected: Json, path = '$'): string | null {
  const fail = (what: string): string => `${path}: expected ${stableJson(expected).slice(0, 200)}, got ${what}`;
  if (expected === null) return actual === null ? null : fail(show(actual));
  if (typeof expected === 'boolean') return actual === expected ? null : fail(show(actual));
  if (!isTagged(expected)) return fail('(bad expectation)');
  if ('int' in expected) {
    const s = expected['int'] as string;
    const ok = isSafe(s) ? typeof actual === 'number' && String(actual) === s : typeof actual === 'bigint' && String(actual) === s;
    return ok ? null : fail(show(actual));
  }
  if ('float' in expected) return typeof actual === 'number' && floatBits(actual) === expected['float'] ? null : fail(show(actual));
  if ('str' in expected) return actual === expected['str'] ? null : fail(show(actual));
  if ('bytes' in expected) {
    return actual instanceof Uint8Array && !Buffer.isBuffer(actual) && hex(actual) === expected['bytes'] ? null : fail(show(actual));
  }
  if ('tuple' in expected || 'list' in expected) {
    const items = (expected['tuple'] ?? expected['list']) as Json[];
    const wantTuple = 'tuple' in expected;
    if (!Array.isArray(actual) || actual instanceof PyTuple !== wantTuple) return fail(show(actual));
    if (actual.length !== items.length) return fail(`length ${actual.length} instead of ${items.length}`);
    for (let i = 0; i < items.length; i++) {
      const m = mismatch(actual[i], items[i] as Json, `${path}[${i}]`);
      if (m) return m;
    }
    return null;
  }
  if ('dict' in expected) {
    const pairs = expected['dict'] as Json[][];
    if (!(actual instanceof Map)) return fail(show(actual));
    if (actual.size !== pairs.length) return fail(`size ${actual.size} instead of ${pairs.length}`);
    let i = 0;
    for (const [k, v] of actual) {
      const pair = pairs[i] as Json[];
      const m = mismatch(k, pair[0] as Json, `${path}.key${i}`) ?? mismatch(v, pair[1] as Json, `${path}[${show(k)}]`);
      if (m) return m;
      i++;
    }
    return null;
  }
  if ('set' in expected) {
    const members = [...(expected['set'] as Json[])];
    if (!(actual instanceof Set)) return fail(show(actual));
    if (actual.size !== members.length) return fail(`size ${actual.size} instead of ${members.length}`);
    for (const member of actual) {
      const i = members.findIndex((e) => mismatch(member, e) === null);
      if (i < 0) return `${path}: set member ${show(member)} not expected`;
      members.splice(i, 1);
    }
    return null;
  }
  if ('exception' in expected || 'object' in expected) {
    const wantException = 'exception' in expected;
    if (!(wantException ? actual instanceof PyException : actual instanceof PyObject)) return fail(show(actual));
    const record = actual as PyException | PyObject;
    const name = (expected['exception'] ?? expected['object']) as string;
    if (record.qualifiedName !== name) return fail(record.qualifiedName);
    const args = expected['args'] as Json[];
    if (record.args.length !== args.length) return fail(`${record.args.length} args`);
    for (let i = 0; i < args.length; i++) {
      const m = mismatch(record.args[i], args[i] as Json, `${path}.args[${i}]`);
      if (m) return m;
    }
    return mismatch(record.state ?? null, expected['state'] ?? null, `${path}.state`);
  }
  if ('token' in expected) {
    if (!(actual instanceof PyToken)) return fail(show(actual));
    const got = [actual.typeid, actual.address[0], actual.address[1], actual.id];
    return stableJson(got) === stableJson(expected['token'] as Json) ? null : fail(stableJson(got));
  }
  if ('dtype' in expected) {
    if (!(actual instanceof NumpyDType)) return fail(show(actual));
    const got = describeDType(actual);
    return stableJson(got) === stableJson(expected['dtype'] as Json) ? null : fail(stableJson(got));
  }
  if ('ndarray' in expected) return ndarrayMismatch(actual, expected['ndarray'] as Tagged, path);
  if ('global' in expected) return actual instanceof PyGlobal && actual.qualifiedName === expected['global'] ? null : fail(show(actual));
  return fail('(unknown expectation tag)');
}

function ndarrayMismatch(actual: unknown, expected: Tagged, path: string): string | null {
  const fail = (what: string): string => `${path}: ndarray ${what}`;
  if (!(actual instanceof NdArray)) return fail(`expected, got ${show(actual)}`);
  if (actual.pyClass !== expected['class']) return fail(`class ${actual.pyClass} != ${String(expected['class'])}`);
  const dtype = stableJson(describeDType(actual.dtype));
  if (dtype !== stableJson(expected['dtype'] as Json)) return fail(`dtype ${dtype} != ${stableJson(expected['dtype'] as Json)}`);
  if (stableJson(actual.shape) !== stableJson(expected['shape'] as Json)) return fail(`shape ${JSON.stringify(actual.shape)}`);
  if (actual.order !== expected['order']) return fail(`order ${actual.order}`);
  const { data, dtype: dt } = actual;
  if ('hex' in expected) {
    if (!(data instanceof DataView)) return fail('data should be a DataView');
    const got = hex(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return got === expected['hex'] ? null : fail(`bytes ${got.slice(0, 80)} != ${String(expected['hex']).slice(0, 80)}`);
  }
  const values = expected['values'] as Json[];
  if (Array.isArray(data)) {
    if (data.length !== values.length) return fail(`has ${data.length} elements`);
    for (let i = 0; i < values.length; i++) {
      const m = mismatch(data[i], values[i] as Json, `${path}.data[${i}]`);
      if (m) return m;
    }
    return null;
  }
  if (data instanceof DataView) return fail('data should be a typed array');
  if (data.length !== values.length) return fail(`has ${data.length} elements, expected ${values.length}`);
  for (let i = 0; i < values.length; i++) {
    const v = data[i] as number | bigint;
    const e = values[i] as Json;
    let ok: boolean;
    if (dt.kind === 'b') ok = (v !== 0) === e;
    else if (isTagged(e) && 'float' in e) ok = typeof v === 'number' && floatBits(v) === e['float'];
    else ok = isTagged(e) && String(v) === e['int'];
    if (!ok) return fail(`element ${i}: ${String(v)} != ${stableJson(e)}`);
  }
  return null;
}

export interface PythonInterpreter {
  path: string;
  version: string;
  minor: number;
}

/** Every CPython 3.8+ under ~/.pyenv/versions, oldest first. */
export function findPythons(): PythonInterpreter[] {
  const root = join(homedir(), '.pyenv', 'versions');
  if (!existsSync(root)) return [];
  const found: PythonInterpreter[] = [];
  for (const entry of readdirSync(root)) {
    const match = /^3\.(\d+)\.(\d+)$/.exec(entry);
    if (!match || Number(match[1]) < 8) continue;
    const path = join(root, entry, 'bin', 'python3');
    if (existsSync(path)) found.push({ path, version: entry, minor: Number(match[1]) });
  }
  return found.sort((a, b) => a.minor - b.minor);
}

export function hasNumpy(python: PythonInterpreter): boolean {
  try {
    execFileSync(python.path, ['-c', 'import numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function hexToBytes(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'hex'));
}

export type RoundTrip = { ok: true; highestProtocol: number; dumps: Uint8Array[] } | { ok: false; error: string };

/**
 * One long-lived CPython process running fixtures/pickles/roundtrip_server.py: send a pickle, get
 * back `pickle.dumps(pickle.loads(it), protocol=p)` for every protocol. Requests are answered in order.
 */
export class PythonPeer {
  private readonly child: ChildProcessWithoutNullStreams;
  private buffered = Buffer.alloc(0);
  private readonly waiting: { resolve: (r: RoundTrip) => void; reject: (e: Error) => void }[] = [];
  private exited: Error | undefined;

  constructor(readonly python: PythonInterpreter) {
    this.child = spawn(python.path, ['roundtrip_server.py'], { cwd: FIXTURES, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    this.child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    this.child.stdout.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.drain();
    });
    this.child.on('exit', (code) => {
      this.exited = new Error(`python ${python.version} exited with ${String(code)}: ${stderr}`);
      for (const w of this.waiting.splice(0)) w.reject(this.exited);
    });
  }

  roundTrip(pickle: Uint8Array): Promise<RoundTrip> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      const header = Buffer.alloc(4);
      header.writeUInt32BE(pickle.length);
      this.child.stdin.write(Buffer.concat([header, pickle]));
    });
  }

  private drain(): void {
    for (;;) {
      const reply = this.parse();
      if (!reply) return;
      this.waiting.shift()?.resolve(reply);
    }
  }

  /** One complete reply from the front of the buffer, or undefined if it has not all arrived. */
  private parse(): RoundTrip | undefined {
    const b = this.buffered;
    if (b.length < 1) return undefined;
    if (b[0] === 1) {
      if (b.length < 5) return undefined;
      const n = b.readUInt32BE(1);
      if (b.length < 5 + n) return undefined;
      this.buffered = b.subarray(5 + n);
      return { ok: false, error: b.subarray(5, 5 + n).toString() };
    }
    if (b.length < 3) return undefined;
    const count = b[2] as number;
    let at = 3;
    const dumps: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      if (b.length < at + 4) return undefined;
      const n = b.readUInt32BE(at);
      if (b.length < at + 4 + n) return undefined;
      dumps.push(new Uint8Array(b.subarray(at + 4, at + 4 + n)));
      at += 4 + n;
    }
    this.buffered = b.subarray(at);
    return { ok: true, highestProtocol: b[1] as number, dumps };
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end(Buffer.alloc(4));
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

/** Small seeded PRNG (mulberry32): the same seed gives the same cases on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
