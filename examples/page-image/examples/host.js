// examples/host.js
import { createPageHost } from '@webmon/page-kit/host';
import { page } from '@webmon/page-image';
import { createRelayClient } from '@webmon/relay/client';

// webmon does this for each page it serves; do it yourself to show the image in your own tool, next to
// a relay on this page's origin at /ws with the binary topic napari.image (createRelay from
// @webmon/relay, and relay.publishFrame). Binary frames need no payload check: the client decodes them.
const client = createRelayClient({ url: new URL('/ws', location.href).href.replace(/^http/, 'ws') });
const host = createPageHost({ client, statusElement: document.querySelector('#status'), sourceLabel: 'napari' });
host.mountPage(page, document.querySelector('main'));
addEventListener('pagehide', () => {
  host.dispose();
  client.close();
});
