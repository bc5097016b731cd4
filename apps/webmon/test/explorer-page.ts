/** /explorer's elements as its README lists them ("What the page exposes"), for the e2e tests. */
import type { Locator, Page } from 'playwright-core';

/** A topic's card. */
export const explorerTopic = (page: Page, name: string): Locator => page.locator(`[data-topic="${name}"]`);

const attribute = async (page: Page, name: string, attribute: string): Promise<number> => Number((await explorerTopic(page, name).getAttribute(attribute, { timeout: 1_000 }).catch(() => null)) ?? 0);

/** Values a topic's card has shown, live and from its snapshot (0 before its first, or when the card is not there). */
export const explorerCount = async (page: Page, name: string): Promise<number> => (await attribute(page, name, 'data-count')) + (await attribute(page, name, 'data-snapshot'));

/** The value text at `path` (keys joined by `.`) in a topic's tree: clickable when it is a number. */
export const explorerValue = (page: Page, name: string, path: string): Locator => explorerTopic(page, name).locator(`.json-node[data-path="${path}"] > .json-line > .json-value`);
