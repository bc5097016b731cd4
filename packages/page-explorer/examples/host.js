// examples/host.js
import { createPageHost } from '@webmon/page-kit/host';
import { page } from '@webmon/page-explorer';
import { createRelayClient } from '@webmon/relay/client';

// webmon does this for each page it serves; do it yourself to explore a relay of your own: any relay on
// this page's origin at /ws (createRelay from @webmon/relay), whatever topics it declares, now or later.
const client = createRelayClient({ url: new URL('/ws', location.href).href.replace(/^http/, 'ws') });
const host = createPageHost({ client, statusElement: document.querySelector('#status'), sourceLabel: 'my program' });
host.mountPage(page, document.querySelector('main'));
addEventListener('pagehide', () => {
  host.dispose();
  client.close();
});
