// examples/relay.mjs
// A relay and a client in one process: a late joiner's snapshot, a live value, a binary array frame and a
// command answered by the host; then both close and the process exits.
import { createRelay, RelayCommandError } from '@webmon/relay';
import { createRelayClient } from '@webmon/relay/client';
import WebSocket from 'ws'; // browsers have a WebSocket; Node 20 does not

const relay = createRelay({ topics: [{ name: 'camera.stats', mode: 'latest' }, { name: 'camera.frame', mode: 'latest', binary: true }] });
relay.onCommand((name, args) => {
  if (name !== 'set_exposure' || typeof args !== 'number') throw new RelayCommandError('BAD_COMMAND_ARGS', 'set_exposure takes a number');
  return { exposureMs: args };
});
const { url } = await relay.listen(); // standalone: 127.0.0.1, a free port
relay.publish('camera.stats', { fps: 59.8 }); // kept: whoever subscribes later gets it first

const client = createRelayClient({ url, WebSocket });
await new Promise((resolve) => {
  client.subscribe('camera.stats', (event) => {
    console.log(event.replay ? 'snapshot' : 'live', event.seq, JSON.stringify(event.payload));
    if (event.replay) relay.publish('camera.stats', { fps: 60.1 });
    else resolve();
  });
});
const frame = new Promise((resolve) => client.subscribe('camera.frame', (event) => event.kind === 'frame' && resolve(event.frame)));
relay.publishFrame('camera.frame', { dtype: 'float32', shape: [2, 2] }, new Float32Array([0.5, 1, 1.5, 2])); // not copied
const { dtype, shape, data } = await frame;
console.log('frame', dtype, shape.join('x'), data.join());

console.log('command', JSON.stringify(await client.command('set_exposure', 8)));
await client.command('set_exposure', 'bright').catch((error) => console.log('refused', error.code));
client.close();
await relay.close();
