/** The loader page's DOM: the column the charts go in and the summary beside it (shared by both modes). */
import type { LoaderSummary } from './loader-types.js';

function formatNumber(value: number | null, digits: number, unit = ''): string {
  return value === null || !Number.isFinite(value) ? '–' : `${value.toFixed(digits)}${unit}`;
}

const SUMMARY_ROWS: readonly [key: string, label: string, read: (summary: LoaderSummary) => string][] = [
  ['frame-mean', 'frame time mean', (s) => formatNumber(s.frameTime.meanMs, 1, ' ms')],
  ['frame-p95', 'frame time p95', (s) => formatNumber(s.frameTime.p95Ms, 1, ' ms')],
  ['fps', 'fps', (s) => formatNumber(s.frameTime.fps, 1)],
  ['loads-per-second', 'loads / s', (s) => formatNumber(s.loads.loadsPerSecond, 1)],
  ['megabytes-per-second', 'MB / s', (s) => formatNumber(s.loads.megabytesPerSecond, 2)],
];

export interface LoaderDom {
  root: HTMLElement;
  column: HTMLElement;
  /** Writes the summary's text (reads the summary only when a summary is shown). */
  renderSummary(read: () => LoaderSummary): void;
}

/** Adds `div.webmon-loader-charts` to `element`: a column for the charts and, if asked, the summary list. */
export function buildLoaderDom(element: HTMLElement, withSummary: boolean): LoaderDom {
  const doc = element.ownerDocument;
  const root = doc.createElement('div');
  root.className = 'webmon-loader-charts';
  // Inline layout only: no stylesheet is injected into the host page.
  root.style.cssText = 'display:flex;gap:16px;align-items:flex-start;font:12px system-ui,sans-serif';
  const column = doc.createElement('div');
  column.className = 'webmon-loader-charts__charts';
  column.style.cssText = 'display:flex;flex-direction:column;gap:6px';
  root.append(column);

  const summaryCells = new Map<string, HTMLElement>();
  if (withSummary) {
    const list = doc.createElement('dl');
    list.className = 'webmon-loader-charts__summary';
    list.style.cssText = 'margin:0;display:grid;grid-template-columns:auto auto;gap:2px 10px;min-width:14em';
    for (const [key, label] of SUMMARY_ROWS) {
      const term = doc.createElement('dt');
      term.textContent = label;
      term.style.cssText = 'color:#555';
      const value = doc.createElement('dd');
      value.dataset.stat = key;
      value.textContent = '–';
      value.style.cssText = 'margin:0;font-variant-numeric:tabular-nums;text-align:right';
      list.append(term, value);
      summaryCells.set(key, value);
    }
    root.append(list);
  }
  element.appendChild(root);

  return {
    root,
    column,
    renderSummary(read) {
      if (summaryCells.size === 0) return;
      const summary = read();
      for (const [key, , format] of SUMMARY_ROWS) {
        const cell = summaryCells.get(key);
        const text = format(summary);
        // Skip unchanged text: a text write costs a style/layout pass even when equal.
        if (cell && cell.textContent !== text) cell.textContent = text;
      }
    },
  };
}
