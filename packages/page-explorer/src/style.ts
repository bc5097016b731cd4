/**
 * The page's styles, injected with the page (a page package is one module: no stylesheet to serve).
 * Every selector is under `.wx-explorer`, so nothing leaks into the host's shell. Colours follow the
 * webmon shell's dark theme and fall back to fixed values in other hosts.
 */
export const EXPLORER_CSS = `
.wx-explorer { flex: 1; min-height: 0; overflow: auto; padding: 0.75rem 1.25rem; display: flex; flex-direction: column; gap: 0.75rem; font-size: 0.85rem; color: var(--text, #e6e6e6); }
.wx-explorer button, .wx-explorer select { font: inherit; color: inherit; background: #2a2e34; border: 1px solid #3a3f46; border-radius: 4px; padding: 0.05rem 0.4rem; cursor: pointer; }
.wx-charts { display: flex; flex-direction: column; gap: 0.5rem; }
.wx-charts-bar { display: flex; gap: 0.5rem; align-items: center; color: var(--muted, #9aa0a6); }
.wx-chart-list { display: grid; grid-template-columns: repeat(auto-fill, minmax(28rem, 1fr)); gap: 0.75rem; }
.wx-chart-list:empty { display: none; }
.wx-chart { border: 1px solid #2c3036; border-radius: 6px; padding: 0.4rem 0.6rem; background: var(--panel, #1f2227); }
.wx-chart header { display: flex; gap: 0.6rem; align-items: center; flex-wrap: wrap; }
.wx-chart-legend { flex: 1; display: flex; gap: 0.4rem; flex-wrap: wrap; }
.wx-chart-field { font-family: ui-monospace, monospace; background: #2a2e34; border-radius: 4px; padding: 0 0.3rem; display: inline-flex; gap: 0.3rem; align-items: center; }
.wx-chart-field button { border: none; padding: 0 0.2rem; background: none; }
.wx-chart-plot { position: relative; min-height: 200px; }
/* The chart widget is styled for light pages; its legend text follows the page's. */
.wx-explorer .wx-chart-plot > * { color: var(--text, #e6e6e6); }
.wx-sources { display: flex; flex-direction: column; gap: 1rem; }
.wx-empty { color: var(--muted, #9aa0a6); }
.wx-source h2 { font-size: 1rem; margin: 0 0 0.4rem; }
.wx-source[data-state='gone'] { opacity: 0.45; filter: grayscale(1); }
.wx-source[data-state='waiting'] h2 { color: var(--warn, #f5c542); }
.wx-topic-list { display: grid; grid-template-columns: repeat(auto-fill, minmax(26rem, 1fr)); gap: 0.6rem; align-items: start; }
.wx-topic { border: 1px solid #2c3036; border-radius: 6px; padding: 0.35rem 0.6rem; background: var(--panel, #1f2227); min-width: 0; }
.wx-topic[data-state='retired'] { opacity: 0.5; }
.wx-topic summary { cursor: pointer; display: flex; gap: 0.6rem; align-items: baseline; }
.wx-topic-name { font-weight: 600; font-family: ui-monospace, monospace; }
.wx-topic-meta { color: var(--muted, #9aa0a6); font-size: 0.8rem; }
.wx-topic-body { margin-top: 0.3rem; max-height: 24rem; overflow: auto; }
.wx-topic[data-binary] .wx-topic-body { max-height: none; overflow: visible; }
.wx-log-label { color: var(--muted, #9aa0a6); margin-top: 0.3rem; font-size: 0.75rem; }
.wx-log { list-style: none; margin: 0; padding: 0; font-family: ui-monospace, monospace; font-size: 0.75rem; max-height: 8rem; overflow: auto; }
.wx-log li { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.wx-log li.wx-gap { color: var(--bad, #ff6b6b); }
.json-tree { font-family: ui-monospace, monospace; font-size: 0.8rem; line-height: 1.35; }
.json-children { padding-left: 1rem; }
.json-toggle, .json-spacer { display: inline-block; width: 1rem; color: var(--muted, #9aa0a6); user-select: none; }
.json-toggle { cursor: pointer; }
.json-key { color: #8ab4f8; }
.json-node[data-numeric='true'] > .json-line > .json-value { color: #f5c542; }
.json-pick { cursor: pointer; text-decoration: underline dotted; }
.json-pick:hover { background: #3a3f46; }
.json-more { color: var(--muted, #9aa0a6); padding-left: 1rem; }
.wx-image { display: flex; flex-direction: column; gap: 0.3rem; }
.wx-image-bar { display: flex; gap: 0.4rem; align-items: center; flex-wrap: wrap; color: var(--muted, #9aa0a6); }
.wx-image-bar input { width: 4.5rem; font: inherit; color: inherit; background: #2a2e34; border: 1px solid #3a3f46; border-radius: 4px; }
`;
