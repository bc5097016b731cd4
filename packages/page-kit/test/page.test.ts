import { describe, expect, it } from 'vitest';
import { PAGE_CONTRACT_VERSION, PageError, PageErrorCode, definePage, isPageError, pageFromModule } from '../src/index.js';

const mount = (): (() => void) => () => undefined;

describe('definePage', () => {
  it('returns a frozen, stamped copy', () => {
    const page = definePage({ id: 'stats', title: 'Stats', topics: ['napari.layers'], mount });
    expect(page).toMatchObject({ id: 'stats', title: 'Stats', topics: ['napari.layers'], contract: PAGE_CONTRACT_VERSION });
    expect(Object.isFrozen(page)).toBe(true);
    expect(Object.isFrozen(page.topics)).toBe(true);
  });

  it.each([
    [{ id: 'Stats', title: 'x', topics: [], mount }, 'id'],
    [{ id: 'ws', title: 'x', topics: [], mount }, 'reserved'],
    [{ id: 'a', title: ' ', topics: [], mount }, 'title'],
    [{ id: 'a', title: 'x', topics: ['has space'], mount }, 'topics'],
    [{ id: 'a', title: 'x', topics: 'napari.layers', mount }, 'topics'],
    [{ id: 'a', title: 'x', topics: [], mount: 'no' }, 'mount'],
  ])('rejects %j naming the field', (definition, field) => {
    let caught: unknown;
    try {
      definePage(definition as never);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PageError);
    expect(isPageError(caught)).toBe(true);
    expect((caught as PageError).code).toBe('PAGE_INVALID_DEFINITION');
    expect((caught as PageError).message).toContain(field);
  });
});

describe('pageFromModule', () => {
  it('accepts a module with a page export', () => {
    const page = definePage({ id: 'a', title: 'A', topics: [], mount });
    expect(pageFromModule({ page }).id).toBe('a');
  });

  it('tells a module without a page export apart from one made for another contract', () => {
    expect(() => pageFromModule({ default: {} }, 'x')).toThrow(expect.objectContaining({ code: 'PAGE_MISSING_EXPORT' }));
    const future = { ...definePage({ id: 'a', title: 'A', topics: [], mount }), contract: 2 };
    expect(() => pageFromModule({ page: future }, 'x')).toThrow(expect.objectContaining({ code: 'PAGE_CONTRACT_MISMATCH' }));
  });

  it('re-checks a hand-made object that claims the contract', () => {
    expect(() => pageFromModule({ page: { id: '../x', title: 'A', topics: [], mount, contract: 1 } })).toThrow(expect.objectContaining({ code: 'PAGE_INVALID_DEFINITION' }));
  });
});

describe('PageError', () => {
  it('codes carry the PAGE_ prefix; isPageError accepts only the class', () => {
    for (const code of Object.values(PageErrorCode)) expect(code).toMatch(/^PAGE_[A-Z_]+$/);
    expect(isPageError(new PageError(PageErrorCode.UNDECLARED_TOPIC, 'x'))).toBe(true);
    expect(isPageError(new Error('x'))).toBe(false);
    expect(isPageError({ name: 'PageError', code: 'PAGE_UNDECLARED_TOPIC' })).toBe(false);
  });
});
