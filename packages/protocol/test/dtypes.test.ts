import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  DTYPE_ITEM_SIZE,
  NUMERIC_DTYPES,
  NumericDTypeSchema,
  dtypeFromNumpyKind,
  dtypeFromNumpyTypestr,
  numpyTypestrOf,
  typedArrayClassOf,
  type NumericDTypeInfo,
} from '../src/index.js';

const rows: NumericDTypeInfo[] = Object.values(NUMERIC_DTYPES);

function hasNumpy(): boolean {
  try {
    execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('numeric dtype table', () => {
  it('has one row per protocol dtype, keyed by its own name', () => {
    expect(Object.keys(NUMERIC_DTYPES)).toEqual(NumericDTypeSchema.options);
    for (const [key, row] of Object.entries(NUMERIC_DTYPES)) expect(row.dtype).toBe(key);
    expect(new Set(rows.map((row) => row.typestr)).size).toBe(rows.length);
  });

  it.each(rows)('$dtype: item size fits its typed array', ({ dtype, kind, itemSize }) => {
    // A complex item is two elements (real, imaginary); every other item is one.
    const elementsPerItem = kind === 'c' ? 2 : 1;
    expect(typedArrayClassOf(dtype).BYTES_PER_ELEMENT * elementsPerItem).toBe(itemSize);
    expect(DTYPE_ITEM_SIZE[dtype]).toBe(itemSize);
  });

  it.each(rows)('$dtype ↔ $typestr round-trips', ({ dtype, kind, itemSize, typestr }) => {
    expect(numpyTypestrOf(dtype)).toBe(typestr);
    expect(dtypeFromNumpyTypestr(typestr)).toBe(dtype);
    expect(dtypeFromNumpyKind(kind, itemSize)).toBe(dtype);
    expect(typestr).toBe(`${itemSize === 1 ? '|' : '<'}${kind}${itemSize}`);
  });

  it.each([
    '>f4', '>i8', '>c16', '=f4', 'f4', '<u1', 'float32', '|V16', '|S5', '<U3', '<M8[ms]', '|O', '<f16', '', 'constructor', '__proto__',
  ])('has no protocol dtype for %j', (typestr) => {
    expect(dtypeFromNumpyTypestr(typestr)).toBeUndefined();
  });

  it.each([
    ['f', 16], ['i', 3], ['S', 5], ['V', 8], ['M', 8], ['c1', 6], ['', 0],
  ] as const)('has no protocol dtype for kind %j, size %d', (kind, itemSize) => {
    expect(dtypeFromNumpyKind(kind, itemSize)).toBeUndefined();
  });

  it.skipIf(!hasNumpy())('agrees with numpy', () => {
    const python = String.raw`
import json, sys, numpy as np
out = {}
for name in json.loads(sys.argv[1]):
    d = np.dtype(name).newbyteorder('<')
    out[name] = {"dtype": name, "kind": d.kind, "itemSize": d.itemsize, "typestr": d.str}
print(json.dumps(out))
`;
    const names = Object.keys(NUMERIC_DTYPES);
    const numpy = JSON.parse(execFileSync('python3', ['-c', python, JSON.stringify(names)], { encoding: 'utf8' })) as unknown;
    const ours = Object.fromEntries(rows.map(({ dtype, kind, itemSize, typestr }) => [dtype, { dtype, kind, itemSize, typestr }]));
    expect(numpy).toEqual(ours);
  });
});
