/**
 * The HTML the server renders: every page is the shell (navigation and status work before any script
 * runs) with the host manifest embedded for `@webmon/page-kit/host`; the index lists the pages.
 */
import type { HostManifest } from '@webmon/page-kit/host';
import type { PageEntry } from '../pages.js';

export interface SiteView {
  pages: readonly PageEntry[];
  /** Wording: napari or the simulator. */
  sourceLabel: string;
  /** The relay's WebSocket path. */
  ws: string;
}

export function hostManifest(site: SiteView, current: PageEntry | null): HostManifest {
  return {
    current: current?.id ?? null,
    pages: site.pages.map((page) => ({
      id: page.id,
      title: page.title,
      ...(page.description === undefined ? {} : { description: page.description }),
      path: `/${page.id}`,
      module: `/pages/${page.id}/${encodeURIComponent(page.moduleFile)}`,
      topics: page.topics,
    })),
    ws: site.ws,
    sourceLabel: site.sourceLabel,
  };
}

export function renderShell(site: SiteView, current: PageEntry | null): string {
  const data = hostManifest(site, current);
  const nav = data.pages
    .map((page) => `<a href="${page.path}"${page.id === data.current ? ' aria-current="page"' : ''}>${escapeHtml(page.title)}</a>`)
    .join('');
  const body =
    current === null
      ? `<section class="index"><h1>webmon</h1><p>Live views of ${escapeHtml(site.sourceLabel)}.</p><ul class="cards">${data.pages
          .map((page) => `<li><a href="${page.path}"><strong>${escapeHtml(page.title)}</strong><span>${escapeHtml(page.description ?? '')}</span></a></li>`)
          .join('')}</ul></section>`
      : '';
  // `<` escaped so no payload can close the script element early.
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(current ? `${current.title} · webmon` : 'webmon')}</title>
<link rel="stylesheet" href="/assets/shell.css">
<script type="application/json" id="webmon-manifest">${json}</script>
<script type="module" src="/assets/shell.js"></script>
</head>
<body>
<header class="bar">
<a class="brand" href="/">webmon</a>
<nav id="webmon-nav" aria-label="Pages">${nav}</nav>
<form id="webmon-save" class="save" title="Download the last seconds of every topic as an MCAP file (opens in Foxglove)">
<label>Save the last <input name="seconds" type="number" min="1" max="86400" step="1" value="60" aria-label="seconds"> s</label>
<button type="submit">Save</button>
<output id="webmon-recording" aria-live="polite"></output>
</form>
<output id="webmon-status" class="status" data-state="waiting" aria-live="polite">waiting for napari</output>
</header>
<main id="webmon-page" data-page="${escapeHtml(current?.id ?? '')}">${body}</main>
</body>
</html>
`;
}

export function renderNotFound(site: SiteView, path: string): string {
  const links = site.pages.map((page) => `<li><a href="/${page.id}">${escapeHtml(page.title)}</a></li>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Not found · webmon</title><link rel="stylesheet" href="/assets/shell.css"></head><body><main class="index"><h1>Not found</h1><p>No page at ${escapeHtml(path)}. Pages:</p><ul>${links}</ul></main></body></html>\n`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
