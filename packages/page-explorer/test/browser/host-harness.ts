/**
 * Page script of the Chromium test with a relay: the explorer page mounted by the real page host on the
 * real relay client, connected to the relay the test runs. The test page server serves `/` only, so the
 * relay's URL comes in the fragment and the charts' selection (`?chart=…`, what the explorer reads) in
 * `#…&chart=…`, moved into the query here before the page mounts.
 */
import { createPageHost } from '@webmon/page-kit/host';
import { createRelayClient } from '@webmon/relay/client';
import { page } from '../../src/index.js';

const fragment = new URLSearchParams(location.hash.slice(1));
const charts = fragment.getAll('chart');
history.replaceState(null, '', `/${charts.length > 0 ? `?${charts.map((chart) => `chart=${encodeURIComponent(chart)}`).join('&')}` : ''}`);
const client = createRelayClient({ url: fragment.get('relay') ?? '' });
const host = createPageHost({ client });
host.mountPage(page, document.getElementById('app')!);
(window as unknown as { hostHarness: unknown }).hostHarness = { client, host };
