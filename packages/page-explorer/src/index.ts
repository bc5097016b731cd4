// @webmon/page-explorer — the /explorer page: every topic of every source, as it arrives. A page module
// (webmon and any @webmon/page-kit host mount `page`); bundled into one browser module, `dist/page.js`.

// The page
export { EXPLORER_PAGE, page } from './page.js';

// How the charts are written in the URL (for tools that make links to a view)
export { CHART_PARAM, fieldKey, fieldLabel, parseFieldKey, readCharts, writeCharts } from './selection.js';
export type { FieldRef, PathSegment } from './selection.js';
