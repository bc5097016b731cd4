/**
 * numpy dtype descriptions as they travel out of band next to a shared memory block (WIRE §4.5):
 * a typestr (`'<f4'`, `'>i8'`, `'|u1'`, `'<c8'`, `'|S5'`, `'<U3'`, `'<M8[ms]'`), a `descr` list
 * (`[['x','<f8'],['y','<i4'],['xy','<f4',[2]]]`, padding entries `['','|V7']`), or numpy's dict
 * form (`{names, formats, offsets?, itemsize?, aligned?}`). Parsed without numpy.
 */
import { NUMERIC_DTYPES, dtypeFromNumpyKind, type NumericDType } from '@webmon/protocol';
import { ShmReaderError, ShmReaderErrorCode } from '../errors.js';

export type DTypeKind = 'b' | 'i' | 'u' | 'f' | 'c' | 'S' | 'U' | 'V' | 'M' | 'm' | 'O';
export type ByteOrder = '<' | '>' | '|';

export interface DTypeField {
  readonly name: string;
  /** Byte offset inside one element. */
  readonly offset: number;
  /** Element type of the field (for a subarray field, the base type). */
  readonly dtype: DType;
  /** Subarray shape (`('xy','<f4',(2,))` → [2]); [] for a scalar field. */
  readonly shape: readonly number[];
}

export interface DType {
  readonly kind: DTypeKind;
  /** `|` for single bytes and non-numeric data. */
  readonly byteOrder: ByteOrder;
  readonly itemSize: number;
  /** numpy's alignment for the type (used for aligned structs). */
  readonly alignment: number;
  /** numpy's typestr (`dtype.str`), e.g. `<f4`, `|V25`. */
  readonly str: string;
  /** datetime64 / timedelta64 unit, e.g. `ms`. */
  readonly unit?: string;
  /** Fields of a structured dtype, in declaration order (padding excluded). */
  readonly fields?: readonly DTypeField[];
}

/** One entry of a numpy `descr` list: [name, typestr | nested descr, shape?]; name may be [title, name]. */
export type DescrEntry = readonly [string | readonly [string, string], string | readonly DescrEntry[], (readonly number[] | number)?];

/** numpy's dict form of a structured dtype. */
export interface DTypeDict {
  names: readonly string[];
  formats: readonly (string | readonly DescrEntry[] | DType)[];
  offsets?: readonly number[];
  itemsize?: number;
  /** Lay fields out like a C struct (numpy `align=True`) when no offsets are given. */
  aligned?: boolean;
}

export type DTypeSpec = string | readonly DescrEntry[] | DTypeDict | DType;

export interface ParseDTypeOptions {
  /** For descr lists without padding entries: insert C-struct padding (numpy `align=True`). Default false (packed). */
  align?: boolean;
}

const NATIVE: '<' | '>' = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? '<' : '>';

/** numpy's other names for numeric types (the protocol's own names, `float32` etc., are numpy's too). */
const ALIASES: ReadonlyMap<string, NumericDType> = new Map([
  ['bool_', 'bool'], ['half', 'float16'], ['single', 'float32'], ['double', 'float64'], ['float', 'float64'],
  ['complex', 'complex128'], ['int', 'int64'], ['byte', 'int8'], ['ubyte', 'uint8'],
]);

/** A numpy type name → a native-order typestr (`float32` → `f4`, `uint8` → `|u1`), or undefined. */
function typestrOfName(name: string): string | undefined {
  const dtype = Object.hasOwn(NUMERIC_DTYPES, name) ? (name as NumericDType) : ALIASES.get(name);
  if (dtype === undefined) return undefined;
  const { kind, itemSize } = NUMERIC_DTYPES[dtype];
  return `${itemSize === 1 ? '|' : ''}${kind}${itemSize}`;
}

/** True when a typed array (or DataView getter) can represent `kind` at this size; other kinds have any size. */
function sizeSupported(kind: DTypeKind, itemSize: number): boolean {
  if ('biufc'.includes(kind)) return dtypeFromNumpyKind(kind, itemSize) !== undefined;
  if (kind === 'M' || kind === 'm') return itemSize === 8;
  return true;
}

function bad(message: string): ShmReaderError {
  return new ShmReaderError(ShmReaderErrorCode.SHM_BAD_DTYPE, message);
}

function scalar(kind: DTypeKind, byteOrder: ByteOrder, itemSize: number, unit?: string): DType {
  const alignment = kind === 'c' ? itemSize / 2 : kind === 'U' ? 4 : 'SVb'.includes(kind) ? 1 : Math.min(itemSize, 8);
  const order: ByteOrder = itemSize === 1 || 'SVb'.includes(kind) ? '|' : byteOrder;
  const sizeInStr = kind === 'U' ? itemSize / 4 : itemSize;
  const str = `${order}${kind}${sizeInStr}${unit ? `[${unit}]` : ''}`;
  return unit ? { kind, byteOrder: order, itemSize, alignment, str, unit } : { kind, byteOrder: order, itemSize, alignment, str };
}

/** Parses a numpy typestr or type name: `<f4`, `>i8`, `|u1`, `<c8`, `|b1`, `|S5`, `<U3`, `|V16`, `<M8[ms]`, `f4`, `float32`. */
export function parseTypestr(text: string): DType {
  if (typeof text !== 'string' || text.length > 64) throw bad('a dtype string is expected');
  const source = typestrOfName(text) ?? text;
  const match = /^([<>|=!@]?)([biufcSUVMmOa])(\d+)(?:\[(\d*[a-zA-Zµ]+)\])?$/.exec(source);
  if (!match) throw bad(`dtype not understood: ${JSON.stringify(text)}`);
  const orderChar = match[1] ?? '';
  const kindChar = match[2] === 'a' ? 'S' : (match[2] as DTypeKind);
  const count = Number(match[3]);
  const unit = match[4];
  const byteOrder: ByteOrder = orderChar === '>' || orderChar === '!' ? '>' : orderChar === '<' ? '<' : orderChar === '|' ? '|' : NATIVE;
  if (kindChar === 'O') throw bad('object dtype (O) holds pointers into another process and cannot be read from shared memory');
  const itemSize = kindChar === 'U' ? count * 4 : count;
  if (!Number.isSafeInteger(itemSize) || itemSize <= 0) throw bad(`dtype ${JSON.stringify(text)} has no size`);
  if (!sizeSupported(kindChar, itemSize)) throw bad(`dtype ${JSON.stringify(text)}: ${kindChar}${itemSize} is not supported`);
  if ((kindChar === 'M' || kindChar === 'm') && !unit) throw bad(`datetime dtype ${JSON.stringify(text)} needs a unit, e.g. <M8[ms]`);
  return scalar(kindChar, byteOrder, itemSize, unit);
}

function asShape(value: unknown): number[] {
  const list = typeof value === 'number' ? [value] : value;
  if (!Array.isArray(list)) throw bad('a field shape must be a number or a list of numbers');
  return list.map((dim: unknown) => {
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) throw bad('field shape entries must be non-negative integers');
    return dim;
  });
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function roundUp(value: number, to: number): number {
  return Math.ceil(value / to) * to;
}

function structured(fields: DTypeField[], itemSize: number, alignment: number): DType {
  return { kind: 'V', byteOrder: '|', itemSize, alignment, str: `|V${itemSize}`, fields };
}

function fieldName(name: unknown): string {
  if (typeof name === 'string') return name;
  if (Array.isArray(name) && typeof name[1] === 'string') return name[1]; // (title, name)
  throw bad('field names must be strings');
}

function parseDescr(entries: readonly DescrEntry[], align: boolean): DType {
  if (entries.length === 0) throw bad('a structured dtype needs at least one field');
  const fields: DTypeField[] = [];
  let offset = 0;
  let maxAlign = 1;
  for (const entry of entries) {
    if (!Array.isArray(entry) || entry.length < 2) throw bad('descr entries are [name, type] or [name, type, shape]');
    const name = fieldName(entry[0]);
    const dtype = parseDType(entry[1] as DTypeSpec, { align });
    const shape = entry.length > 2 && entry[2] !== undefined ? asShape(entry[2]) : [];
    const size = dtype.itemSize * product(shape);
    if (name === '') {
      // numpy's explicit padding (`('', '|V7')`), present in descr of aligned dtypes.
      offset += size;
      continue;
    }
    if (align) offset = roundUp(offset, dtype.alignment);
    maxAlign = Math.max(maxAlign, dtype.alignment);
    if (fields.some((field) => field.name === name)) throw bad(`duplicate field name ${JSON.stringify(name)}`);
    fields.push({ name, offset, dtype, shape });
    offset += size;
  }
  return structured(fields, align ? roundUp(offset, maxAlign) : offset, align ? maxAlign : 1);
}

function parseDict(dict: DTypeDict): DType {
  const { names, formats, offsets, itemsize, aligned = false } = dict;
  if (!Array.isArray(names) || !Array.isArray(formats) || names.length !== formats.length || names.length === 0) {
    throw bad('dtype dict needs names and formats of the same non-zero length');
  }
  if (offsets && offsets.length !== names.length) throw bad('dtype dict offsets must match names');
  const fields: DTypeField[] = [];
  let cursor = 0;
  let maxAlign = 1;
  names.forEach((name, index) => {
    const dtype = parseDType(formats[index] as DTypeSpec, { align: aligned });
    let offset: number;
    if (offsets) offset = offsets[index] ?? 0;
    else offset = aligned ? roundUp(cursor, dtype.alignment) : cursor;
    if (!Number.isSafeInteger(offset) || offset < 0) throw bad(`field ${name} has a bad offset`);
    maxAlign = Math.max(maxAlign, dtype.alignment);
    fields.push({ name: fieldName(name), offset, dtype, shape: [] });
    cursor = Math.max(cursor, offset + dtype.itemSize);
  });
  const natural = aligned ? roundUp(cursor, maxAlign) : cursor;
  const size = itemsize ?? natural;
  if (!Number.isSafeInteger(size) || size < cursor) throw bad(`itemsize ${size} is smaller than the fields (${cursor})`);
  return structured(fields, size, aligned ? maxAlign : 1);
}

function isDType(spec: unknown): spec is DType {
  return typeof spec === 'object' && spec !== null && !Array.isArray(spec) && 'kind' in spec && 'itemSize' in spec && 'str' in spec;
}

/** Parses any supported dtype description. Throws SHM_BAD_DTYPE. */
export function parseDType(spec: DTypeSpec, options: ParseDTypeOptions = {}): DType {
  if (isDType(spec)) return spec;
  if (typeof spec === 'string') return parseTypestr(spec);
  if (Array.isArray(spec)) return parseDescr(spec as readonly DescrEntry[], options.align ?? false);
  if (typeof spec === 'object' && spec !== null && 'names' in spec) return parseDict(spec);
  throw bad('dtype must be a typestr, a descr list, a {names, formats} dict or a parsed DType');
}
