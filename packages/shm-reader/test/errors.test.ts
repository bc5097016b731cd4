import { describe, expect, it } from 'vitest';
import { PickleError, RemoteError, ShmReaderError, ShmReaderErrorCode, decodePickle, isShmReaderError } from '../src/index.js';

describe('error codes', () => {
  it('carry the package prefix, one spelling per meaning', () => {
    const values = new Set(Object.values(ShmReaderErrorCode));
    for (const value of values) expect(value).toMatch(/^SHM_READER_[A-Z][A-Z_]+$/);
    expect(values).not.toContain('SHM_READER_SHM_NOT_FOUND');
    expect(ShmReaderErrorCode.SHM_NOT_FOUND).toBe('SHM_READER_NOT_FOUND');
    expect(ShmReaderErrorCode.RING_WRITER_DEAD).toBe('SHM_READER_RING_WRITER_DEAD');
    expect(ShmReaderErrorCode.PICKLE_LIMIT).toBe('SHM_READER_PICKLE_LIMIT');
    // closed by this process, whatever was closed: one code
    expect(ShmReaderErrorCode.DISPOSED).toBe('SHM_READER_DISPOSED');
    expect([...values].filter((value) => /CLOSED|DISPOSED/.test(value)).sort()).toEqual(['SHM_READER_CONNECTION_CLOSED', 'SHM_READER_DISPOSED']);
    expect([...values].filter((value) => /OPTION|CONFIG/.test(value)).sort()).toEqual(['SHM_READER_INVALID_OPTIONS']);
  });

  it('isShmReaderError is true for the class and its subclasses only', () => {
    let pickle: unknown;
    try {
      decodePickle(new Uint8Array([0x80, 4, 0xff, 0x2e]));
    } catch (error) {
      pickle = error;
    }
    expect(pickle).toBeInstanceOf(PickleError);
    expect(isShmReaderError(pickle)).toBe(true);
    expect(isShmReaderError(new RemoteError('#TRACEBACK', 'Traceback\nKeyError', 'call'))).toBe(true);
    expect(isShmReaderError(new ShmReaderError(ShmReaderErrorCode.DISPOSED, 'closed'))).toBe(true);
    expect(isShmReaderError(new Error('x'))).toBe(false);
    expect(isShmReaderError({ name: 'ShmReaderError', code: 'SHM_READER_DISPOSED' })).toBe(false);
  });
});
