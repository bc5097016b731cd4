// examples/live.js
import { NapariTopics, napariPayloadValidators } from '@webmon/napari';
import { createRelayClient } from '@webmon/relay/client';
import { createTileViewer } from '@webmon/tile-viewer';

const viewer = createTileViewer(document.querySelector('#tiles'));
const client = createRelayClient({
  url: new URL('/ws', location.href).href.replace(/^http/, 'ws'), // the relay that serves this page
  payloadValidators: napariPayloadValidators, // polls are checked before the viewer sees them
});
const topic = NapariTopics.layers.name;
client.subscribe(topic, (event) => {
  if (event.kind === 'data') viewer.update(event.payload);
});
// The show-grid checkbox: the command goes to the source behind the topic, napari.
viewer.on('command', ({ name, args }) => {
  client.command(name, args, { topic }).catch((error) => console.warn('napari did not take it:', error));
});
// When the page goes away: viewer.dispose(); client.close();
