/**
 * An example page package: message rates per topic and one row of tile statistics per layer.
 * Everything webmon needs is the `page` export; the package.json's `webmon.page` points at the bundle.
 */
import { definePageFor } from '@webmon/page-kit';
import type { NapariTopicPayloads } from '@webmon/napari';
import { RateCounter, formatShare, layerStats, type LayerStats } from './stats.js';

const TOPICS = ['napari.layers', 'napari.frame_time', 'napari.load_chunk'] as const;
const REFRESH_MS = 250;

export const page = definePageFor<NapariTopicPayloads>()({
  id: 'stats',
  title: 'Stats',
  description: "Message rates, and each layer's level, tiles seen and view size.",
  topics: TOPICS,
  mount(element, context) {
    const root = document.createElement('section');
    root.style.cssText = 'padding:1.5rem 2rem;display:grid;gap:1.5rem;align-content:start;font-variant-numeric:tabular-nums;';
    root.innerHTML = `
      <style>
        .stats-table { border-collapse: collapse; min-width: 28rem; }
        .stats-table th, .stats-table td { text-align: right; padding: 0.35rem 0.8rem; border-bottom: 1px solid #2c3036; }
        .stats-table th:first-child, .stats-table td:first-child { text-align: left; }
        .stats-table th { color: #9aa0a6; font-weight: 500; }
      </style>
      <div><h2>Message rates</h2><table class="stats-table"><thead><tr><th>topic</th><th>per second</th><th>total</th></tr></thead><tbody data-role="rates"></tbody></table></div>
      <div><h2>Layers</h2><table class="stats-table"><thead><tr><th>layer</th><th>level</th><th>level size (px)</th><th>tiles</th><th>seen</th><th>seen share</th><th>view (level-0 px)</th></tr></thead><tbody data-role="layers"></tbody></table></div>`;
    element.replaceChildren(root);
    const ratesBody = root.querySelector<HTMLElement>('[data-role="rates"]');
    const layersBody = root.querySelector<HTMLElement>('[data-role="layers"]');
    if (!ratesBody || !layersBody) throw new Error('stats page: template is missing its tables');

    const counter = new RateCounter();
    const totals = new Map<string, number>(TOPICS.map((topic) => [topic, 0]));
    let layers: LayerStats[] = [];
    const count = (topic: string, replayed: boolean): void => {
      totals.set(topic, (totals.get(topic) ?? 0) + 1);
      // Replayed history arrives in one burst: it is counted in the totals, not in the live rate.
      if (!replayed) counter.add(topic, performance.now());
    };

    context.subscribe('napari.layers', (poll, info) => {
      count('napari.layers', info.replayed);
      layers = layerStats(poll);
    });
    for (const topic of ['napari.frame_time', 'napari.load_chunk'] as const) {
      context.subscribe(topic, (_payload, info) => count(topic, info.replayed));
    }

    const cell = (text: string): HTMLTableCellElement => {
      const td = document.createElement('td');
      td.textContent = text;
      return td;
    };
    const render = (): void => {
      const rates = counter.rates(performance.now());
      ratesBody.replaceChildren(
        ...TOPICS.map((topic) => {
          const row = document.createElement('tr');
          row.dataset['role'] = 'rate';
          row.dataset['topic'] = topic;
          row.append(cell(topic), cell((rates.get(topic) ?? 0).toFixed(1)), cell(String(totals.get(topic) ?? 0)));
          return row;
        }),
      );
      layersBody.replaceChildren(
        ...layers.map((layer) => {
          const row = document.createElement('tr');
          row.dataset['role'] = 'layer';
          row.dataset['seen'] = String(layer.seen);
          row.append(
            cell(layer.id),
            cell(layer.level === null ? '–' : String(layer.level)),
            cell(layer.imageShape ? `${layer.imageShape[0]}×${layer.imageShape[1]}` : '–'),
            cell(layer.tilesInLevel === null ? '–' : String(layer.tilesInLevel)),
            cell(String(layer.seen)),
            cell(formatShare(layer.seenShare)),
            cell(layer.viewSize ? `${Math.round(layer.viewSize[0])}×${Math.round(layer.viewSize[1])}` : '–'),
          );
          return row;
        }),
      );
    };
    render();
    const timer = setInterval(render, REFRESH_MS);
    return () => {
      clearInterval(timer);
      root.remove();
    };
  },
});
