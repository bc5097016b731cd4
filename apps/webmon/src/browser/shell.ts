/**
 * The app's shell: reads the manifest the server embedded, connects one relay client per tab and hands
 * the current page to the page host (`@webmon/page-kit/host`), which mounts it and shows napari's
 * state in the header on every page.
 */
import { napariPayloadValidators } from '@webmon/napari';
import { createPageHost, readHostManifest, showPageError, type HostManifest } from '@webmon/page-kit/host';
import { createRelayClient } from '@webmon/relay/client';
import './webmon.css';

function start(): void {
  const manifestElement = document.getElementById('webmon-manifest');
  const main = document.getElementById('webmon-page');
  if (!manifestElement || !main) return;
  let manifest: HostManifest;
  try {
    manifest = readHostManifest(manifestElement.textContent ?? '');
  } catch (error) {
    showPageError(main, 'webmon could not start this page', error);
    return;
  }
  // A token is only needed when webmon listens beyond this machine; it travels in the URL fragment
  // (never sent to a server or written to a log) and is kept for the tab's other pages.
  const fragment = new URLSearchParams(location.hash.slice(1));
  const token = fragment.get('token') ?? sessionStorage.getItem('webmon.token') ?? undefined;
  if (fragment.has('token') && token) sessionStorage.setItem('webmon.token', token);

  const wsUrl = new URL(manifest.ws, location.href);
  wsUrl.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const client = createRelayClient({ url: wsUrl.href, payloadValidators: napariPayloadValidators, ...(token ? { token } : {}) });
  const host = createPageHost({
    client,
    statusElement: document.getElementById('webmon-status'),
    statusText: { waiting: 'waiting for napari' },
    sourceLabel: manifest.sourceLabel,
    serverLabel: 'webmon',
  });
  window.addEventListener(
    'pagehide',
    () => {
      host.dispose();
      client.close();
    },
    { once: true },
  );
  const current = manifest.pages.find((page) => page.id === manifest.current);
  if (current) void host.loadPage(current, main); // else the index: server-rendered, only the status is live
}

start();
