// examples/host.js
import { createPageHost } from '@webmon/page-kit/host';
import { createRelayClient } from '@webmon/relay/client';
import { page } from './frames-page.js';

// The relay serves this page's origin at /ws (createRelay({ server, path: '/ws' }) from @webmon/relay,
// or the webmon app): the host needs a client of it, and never closes it itself.
const client = createRelayClient({ url: new URL('/ws', location.href).href.replace(/^http/, 'ws') });
const host = createPageHost({ client, statusElement: document.querySelector('#status'), sourceLabel: 'napari' });
host.mountPage(page, document.querySelector('main'));
addEventListener('pagehide', () => {
  host.dispose();
  client.close();
});
