// examples/live.js
import { createLoaderCharts } from '@webmon/loader-charts';
import { NapariTopics, napariPayloadValidators } from '@webmon/napari';
import { createRelayClient } from '@webmon/relay/client';

const charts = createLoaderCharts(document.querySelector('#loader'));
const client = createRelayClient({
  url: new URL('/ws', location.href).href.replace(/^http/, 'ws'), // the relay that serves this page
  payloadValidators: napariPayloadValidators, // messages are checked before the charts see them
});
for (const topic of [NapariTopics.frameTime.name, NapariTopics.loadChunk.name]) {
  client.subscribe(topic, (event) => {
    if (event.kind === 'data') charts.push(event.payload); // a page opened late gets the replay first
  });
}
// When the page goes away: charts.dispose(); client.close();
