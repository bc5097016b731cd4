/**
 * The app's shell: reads the manifest the server embedded, connects one relay client per tab and hands
 * the current page to the page host (`@webmon/page-kit/host`), which mounts it and shows napari's
 * state in the header on every page.
 */
import { napariPayloadValidators } from '@webmon/napari';
import { createPageHost, readHostManifest, showPageError, type HostManifest } from '@webmon/page-kit/host';
import { createRelayClient } from '@webmon/relay/client';
import { createTimeline } from './timeline.js';
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
  // Binary topics (images) on a second connection in a worker, so a page's small messages do not wait
  // behind their chunks on the main thread (the script is @webmon/relay's, copied beside this one).
  const bulkWorker = new URL('./relay-bulk-worker.js', import.meta.url);
  const client = createRelayClient({ url: wsUrl.href, payloadValidators: napariPayloadValidators, bulkWorker, ...(token ? { token } : {}) });
  const host = createPageHost({
    client,
    statusElement: document.getElementById('webmon-status'),
    statusText: { waiting: 'waiting for napari' },
    sourceLabel: manifest.sourceLabel,
    serverLabel: 'webmon',
  });
  // The replay's timeline, in the header before the source's state; hidden unless the server replays.
  const timelineElement = document.createElement('div');
  timelineElement.id = 'webmon-timeline';
  timelineElement.hidden = true;
  document.getElementById('webmon-status')?.before(timelineElement);
  const timeline = createTimeline(timelineElement, { client });
  window.addEventListener(
    'pagehide',
    () => {
      timeline.dispose();
      host.dispose();
      client.close();
    },
    { once: true },
  );
  const current = manifest.pages.find((page) => page.id === manifest.current);
  if (current) void host.loadPage(current, main); // else the index: server-rendered, only the status is live
}

start();
wireSaveControl();

/**
 * The header's "Save the last N seconds" control: asks the flight recorder for an MCAP file and hands it
 * to the browser as a download; next to it, whether webmon records to a file and what it had to drop.
 */
function wireSaveControl(): void {
  const form = document.getElementById('webmon-save');
  const out = document.getElementById('webmon-recording');
  if (!(form instanceof HTMLFormElement) || out === null) return;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const seconds = Number(new FormData(form).get('seconds'));
    out.textContent = 'saving…';
    fetch(`/api/recording?seconds=${encodeURIComponent(String(seconds))}`, { method: 'POST', credentials: 'same-origin' })
      .then(async (response) => {
        if (!response.ok) throw new Error((await response.text()).trim() || `HTTP ${response.status}`);
        const name = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? 'webmon.mcap';
        const url = URL.createObjectURL(await response.blob());
        const link = document.createElement('a');
        link.href = url;
        link.download = name;
        link.click();
        setTimeout(() => URL.revokeObjectURL(url), 60_000);
        out.textContent = `saved ${name}`;
      })
      .catch((error: unknown) => {
        out.textContent = `not saved: ${(error as Error).message}`;
      });
  });
  const showRecording = (): void => {
    fetch('/api/status', { credentials: 'same-origin' })
      .then((response) => (response.ok ? (response.json() as Promise<unknown>) : undefined))
      .then((status) => {
        const recording = (status as { recording?: { path?: unknown; droppedTotal?: unknown } } | undefined)?.recording;
        if (recording === undefined || typeof recording.path !== 'string') return;
        const dropped = typeof recording.droppedTotal === 'number' && recording.droppedTotal > 0 ? ` · ${recording.droppedTotal} dropped` : '';
        const file = recording.path.split(/[\\/]/).pop() ?? '';
        if (!out.textContent?.startsWith('sav') && !out.textContent?.startsWith('not')) out.textContent = `● recording ${file}${dropped}`;
      })
      .catch(() => undefined);
  };
  showRecording();
  setInterval(showRecording, 5_000);
}
