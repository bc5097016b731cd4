/**
 * `pnpm --filter @webmon/time-series exec tsx bench/profile.ts [case]`: one benchmark case under the DevTools
 * CPU profiler; prints the functions with the most self time (for work on the chart's speed, not a figure).
 */
import { fileURLToPath } from 'node:url';
import { bundleBrowserEntry, launchChromium, openPage, servePage } from '@webmon/test-chromium';
import type { Approach, BenchConfig } from './page.js';

const approach = (process.argv[2] ?? 'follow') as Approach;
const script = await bundleBrowserEntry(fileURLToPath(new URL('./page.ts', import.meta.url)));
const server = await servePage(script, { title: 'time-series profile', bodyStyle: 'margin:16px;background:#fff', bodyHtml: '<div id="app"></div>' });
const browser = await launchChromium();
const page = await openPage(browser, server.url, 'bench', { width: 1100, height: 800 });
const cdp = await page.context().newCDPSession(page);
await cdp.send('Profiler.enable');
await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
await page.exposeBinding('benchMark', async (_source, phase: 'start' | 'end') => {
  if (phase === 'start') await cdp.send('Profiler.start');
});
const config: BenchConfig = { approach, seconds: 4, fields: 20, windowMs: 600_000, vegaWindowMs: 10_000, width: 1000 };
await page.evaluate((config) => window.bench.run(config), config);
const { profile } = await cdp.send('Profiler.stop');
await browser.close();
await server.close();

const self = new Map<string, number>();
const dt = new Map<number, number>();
profile.samples?.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (profile.timeDeltas?.[i] ?? 0)));
for (const node of profile.nodes) {
  const { functionName, url, lineNumber } = node.callFrame;
  const key = `${functionName || '(anonymous)'} ${url.split('/').pop()}:${lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + (dt.get(node.id) ?? 0) / 1000);
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
console.log(`${approach}: ${total.toFixed(0)} ms sampled`);
for (const [key, ms] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${ms.toFixed(1).padStart(9)} ms  ${((100 * ms) / total).toFixed(1).padStart(5)} %  ${key}`);
