/** /explorer's elements as its README lists them ("What the page exposes"), for the e2e tests. */
import type { Locator, Page } from 'playwright-core';

/** A topic's card. */
export const explorerTopic = (page: Page, name: string): Locator => page.locator(`[data-topic="${name}"]`);

/** Values a topic's card has received (0 before its first, or when the card is not there). */
export const explorerCount = async (page: Page, name: string): Promise<number> => Number((await explorerTopic(page, name).getAttribute('data-count', { timeout: 1_000 }).catch(() => null)) ?? 0);

/** The value text at `path` (keys joined by `.`) in a topic's tree: clickable when it is a number. */
export const explorerValue = (page: Page, name: string, path: string): Locator => explorerTopic(page, name).locator(`.json-node[data-path="${path}"] > .json-line > .json-value`);
