// Every published package packs, and its tarball holds what its manifest promises.
import { describe, expect, inject, it } from 'vitest';
import { publishedPackages } from '../src/index.js';

const packed = inject('packed');

describe('packed tarballs', () => {
  it.each(publishedPackages().map((p) => [p.name] as const))('%s packs', (name) => {
    const entry = packed[name];
    expect(entry, `${name} was packed`).toBeDefined();
    expect(entry!.bytes).toBeGreaterThan(0);
  });
});
