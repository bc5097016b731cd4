// examples/validate.mjs
// napari's data checked anywhere (browsers, Node, workers): what a page or a relay host does with it.
import { napariTopicNames, parsePoll, parseNapariMessage, napariPayloadValidators } from '@webmon/napari';
import { isProtocolError } from '@webmon/protocol';

const poll = parsePoll({ layers: { '140234': { tile_config: { base_shape: [4096, 4096], image_shape: [1024, 1024], shape_in_tiles: [4, 4], tile_size: 256, level_index: 2 } } } });
console.log(Object.keys(poll.layers).join(), poll.layers['140234'].tile_config.level_index);
for (const event of parseNapariMessage({ frame_time: { time: 1.7e9, delta_ms: 16.7 }, my_event: [1, 2] })) {
  console.log(event.kind, event.kind === 'unknown' ? event.name : event.data.delta_ms);
}
try {
  parsePoll({ layers: { '140234': { tile_state: { seen: 'all' } } } });
} catch (error) {
  if (!isProtocolError(error)) throw error;
  console.log(error.code, error.issues[0].path.join('.'));
}
const topics = napariTopicNames('napari'); // a second napari window gets another prefix, e.g. 'napari2'
console.log(topics.layers, topics.data('my_plugin'), topics.message('my_event'));
console.log(Object.keys(napariPayloadValidators).length, 'payload checks, by schema id, for a relay topic and the relay client');
