/**
 * The tree in real Chromium (Debian's, through playwright-core): updated in place, the user's open and
 * closed nodes kept, and numbers reported when clicked.
 */
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openTestSite, openPage, type TestSite } from '@webmon/test-chromium';
import type {} from './browser/harness.js';

let site: TestSite;
let page: Page;

beforeAll(async () => {
  site = await openTestSite(fileURLToPath(new URL('./browser/harness.ts', import.meta.url)), { title: 'page-explorer', bodyHtml: '<div id="app" class="wx-explorer"></div>' });
});

afterAll(async () => {
  await site?.close();
});

beforeEach(async () => {
  page = await openPage(site.browser, site.url, 'harness');
});

afterEach(async () => {
  await page?.close();
});

describe('createJsonTree in Chromium', () => {
  it('changes only what changed: the same elements stay, with new text; keys come and go in place', async () => {
    const result = await page.evaluate(() => {
      const app = document.getElementById('app')!;
      const tree = window.harness.createJsonTree(app, { openDepth: 2 });
      tree.update({ a: 1, b: { c: 'x', d: [1, 2] } });
      const nodeA = app.querySelector('[data-path="a"]');
      const nodeC = app.querySelector('[data-path="b.c"]');
      tree.update({ a: 2, b: { c: 'x', d: [1, 2, 3] }, e: null });
      const sameA = app.querySelector('[data-path="a"]') === nodeA;
      const sameC = app.querySelector('[data-path="b.c"]') === nodeC;
      const textA = app.querySelector('[data-path="a"] .json-value')!.textContent;
      const summaryD = app.querySelector('[data-path="b.d"] > .json-line > .json-value')!.textContent;
      const order1 = [...app.querySelectorAll('[data-path=""] > .json-children > .json-node')].map((n) => (n as HTMLElement).dataset['path']);
      tree.update({ e: null, a: 3 });
      const order2 = [...app.querySelectorAll('[data-path=""] > .json-children > .json-node')].map((n) => (n as HTMLElement).dataset['path']);
      const goneB = app.querySelector('[data-path="b"]') === null;
      tree.update('now a string');
      const leaf = app.querySelector('[data-path=""] > .json-line > .json-value')!.textContent;
      const children = app.querySelectorAll('.json-children').length;
      return { sameA, sameC, textA, summaryD, order1, order2, goneB, leaf, children };
    });
    expect(result).toEqual({
      sameA: true,
      sameC: true,
      textA: '2',
      summaryD: '[3]',
      order1: ['a', 'b', 'e'],
      order2: ['e', 'a'],
      goneB: true,
      leaf: '"now a string"',
      children: 0,
    });
  });

  it("keeps the user's open and closed nodes through updates, and through a new tree sharing the same choices", async () => {
    const result = await page.evaluate(() => {
      const app = document.getElementById('app')!;
      const expanded = new Map<string, boolean>();
      const value = (n: number) => ({ top: { inner: { n } }, other: { m: n } });
      let tree = window.harness.createJsonTree(app, { expanded, openDepth: 1, openSmall: 0 });
      tree.update(value(1));
      const toggle = (path: string) => (app.querySelector(`[data-path="${path}"] > .json-line > .json-toggle`) as HTMLElement).click();
      const before = app.querySelector('[data-path="top.inner"]') === null; // depth 1: closed
      toggle('top');
      toggle('top.inner');
      toggle('');
      toggle('');
      tree.update(value(2));
      tree.update(value(3));
      const shown = app.querySelector('[data-path="top.inner.n"] .json-value')?.textContent;
      const otherClosed = app.querySelector('[data-path="other.m"]') === null;
      toggle('top');
      tree.update(value(4));
      const closedAgain = app.querySelector('[data-path="top.inner"]') === null;
      tree.dispose();
      tree = window.harness.createJsonTree(app, { expanded, openDepth: 1, openSmall: 0 });
      tree.update(value(5));
      const stillClosed = app.querySelector('[data-path="top.inner"]') === null;
      toggle('top');
      const innerReopened = app.querySelector('[data-path="top.inner.n"] .json-value')?.textContent;
      return { before, shown, otherClosed, closedAgain, stillClosed, innerReopened, listeners: app.children.length };
    });
    expect(result).toEqual({ before: true, shown: '3', otherClosed: true, closedAgain: true, stillClosed: true, innerReopened: '5', listeners: 1 });
  });

  it('reports the path of a clicked number, and of nothing else', async () => {
    await page.evaluate(() => {
      const app = document.getElementById('app')!;
      const picks: unknown[] = [];
      (window as unknown as { picks: unknown[] }).picks = picks;
      const tree = window.harness.createJsonTree(app, { openDepth: 3, onPick: (path) => picks.push(path) });
      tree.update({ stats: { count: 7, label: 'x' }, list: [1.5, true] });
    });
    await page.locator('[data-path="stats.count"] .json-value').click();
    await page.locator('[data-path="stats.label"] .json-value').click();
    await page.locator('[data-path="list.0"] .json-value').click();
    await page.locator('[data-path="list.1"] .json-value').click();
    await page.locator('[data-path="stats"] > .json-line > .json-key').click();
    expect(await page.evaluate(() => (window as unknown as { picks: unknown[] }).picks)).toEqual([['stats', 'count'], ['list', 0]]);
    expect(await page.locator('[data-path="stats.count"]').getAttribute('data-numeric')).toBe('true');
    expect(await page.locator('[data-path="stats.label"]').getAttribute('data-numeric')).toBe('false');
  });

  it('opens small objects by themselves, down to the third level, and leaves big ones shut', async () => {
    const result = await page.evaluate(() => {
      const app = document.getElementById('app')!;
      const tree = window.harness.createJsonTree(app, { openSmall: 2 });
      tree.update({ small: { a: { b: { c: 1 } } }, big: { x: 1, y: 2, z: 3 } });
      return [...app.querySelectorAll('[data-open]')].map((node) => `${(node as HTMLElement).dataset['path']}=${(node as HTMLElement).dataset['open']}`);
    });
    expect(result).toEqual(['=true', 'small=true', 'small.a=true', 'small.a.b=false', 'big=false']);
  });

  it('lists at most maxChildren entries and counts the rest', async () => {
    const result = await page.evaluate(() => {
      const app = document.getElementById('app')!;
      const tree = window.harness.createJsonTree(app, { maxChildren: 10, openSmall: 0 });
      tree.update(Array.from({ length: 1000 }, (_, i) => i));
      const first = { nodes: app.querySelectorAll('[data-path=""] > .json-children > .json-node').length, more: app.querySelector('.json-more')?.textContent };
      tree.update([1, 2]);
      return { first, nodes: app.querySelectorAll('[data-path=""] > .json-children > .json-node').length, more: app.querySelector('.json-more') };
    });
    expect(result).toEqual({ first: { nodes: 10, more: '… 990 more' }, nodes: 2, more: null });
  });
});
