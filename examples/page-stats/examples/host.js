// examples/host.js
import { napariPayloadValidators } from '@webmon/napari';
import { createPageHost } from '@webmon/page-kit/host';
import { page } from '@webmon/page-stats';
import { createRelayClient } from '@webmon/relay/client';

// webmon does this for each page it serves; do it yourself to show the page in your own tool, next to
// a relay on this page's origin at /ws that carries napari's topics (createRelay from @webmon/relay, fed
// by the bridge of @webmon/napari/node, as webmon does).
const client = createRelayClient({
  url: new URL('/ws', location.href).href.replace(/^http/, 'ws'),
  payloadValidators: napariPayloadValidators, // pages expect napari's payloads checked
});
const host = createPageHost({ client, statusElement: document.querySelector('#status'), sourceLabel: 'napari' });
host.mountPage(page, document.querySelector('main'));
addEventListener('pagehide', () => {
  host.dispose();
  client.close();
});
