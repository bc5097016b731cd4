/** `pnpm --filter @webmon/loader-charts screenshot`: renders the loader charts in Chromium to docs/screenshot.png. */
import { fileURLToPath } from 'node:url';
import { bundleBrowserEntry, launchChromium, openPage, servePage } from '@webmon/test-chromium';

const script = await bundleBrowserEntry(fileURLToPath(new URL('./screenshot-page.ts', import.meta.url)));
const server = await servePage(script, {
  title: 'loader-charts',
  bodyStyle: 'margin:16px;background:#fff',
  bodyHtml: '<div id="app" style="display:inline-block;padding:8px"></div>',
});
const browser = await launchChromium();
try {
  const page = await openPage(browser, server.url, 'shotReady', { width: 900, height: 600 });
  const output = fileURLToPath(new URL('../docs/screenshot.png', import.meta.url));
  await page.locator('#app').screenshot({ path: output });
  console.log(`wrote ${output}`);
} finally {
  await browser.close();
  await server.close();
}
