// examples/monitor.mjs
// A napari monitor client: napari starts it (listed in its NAPARI_MON config) with NAPARI_MON_CLIENT set,
// and it prints what napari shares, validated, until napari quits.
import { NapariClient } from '@webmon/napari/node';

const napari = await NapariClient.connect(); // napari's manager: the port from NAPARI_MON_CLIENT, authkey 'napari'
napari.on('poll', (poll) => {
  // napari_data['poll'] every frame: per layer (keyed by id(layer)), the octree tiles it draws
  for (const [id, { tile_state: tiles, tile_config: level }] of Object.entries(poll.layers)) {
    console.log(`layer ${id}: ${tiles?.seen.length ?? 0} tiles seen at level ${level?.level_index ?? '-'}`);
  }
});
napari.on('message', (event) => {
  // napari_messages: frame_time every frame, load_chunk per chunk, anything a plugin sends
  if (event.kind === 'frame_time') console.log(`frame ${event.data.delta_ms} ms`);
  else if (event.kind === 'load_chunk') console.log(`chunk ${JSON.stringify(event.data)}`);
  else console.log(`message ${event.name} ${JSON.stringify(event.value)}`);
});
napari.on('invalid', ({ source, error }) => console.warn(`ignored ${source}: ${error.message}`));
await napari.showGrid(true); // a command: napari draws its octree tile grid
const { reason } = await napari.whenShutdown(); // napari quit, or its manager went away
console.log(`napari gone (${reason})`);
