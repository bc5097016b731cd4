// examples/read-python.mjs
// Reads what a running Python program shares, with no Python in this process: start the Python side
// (`python3 examples/share.py`, it prints its port), then `node examples/read-python.mjs <port>`.
import { ManagerClient, toJsonData, openSharedMemory, viewNdArray } from '@webmon/shm-reader';

const [port, authkey = 'webmon-example'] = process.argv.slice(2);
const manager = await ManagerClient.connect({ port: Number(port), authkey });

const state = await manager.dict('state'); // the typeid share.py registered; calls its dict's methods
const shared = toJsonData(await state.copy()); // the pickled reply, decoded (never executed) into JSON data
console.log('state', JSON.stringify(shared));
const events = await manager.queue('events');
console.log('event', JSON.stringify(toJsonData(await events.get(true, 5)))); // waits up to 5 s, as queue.get does

const block = openSharedMemory(shared.image.name); // the array's bytes, in place: Python's writes show at once
const image = viewNdArray(block, { dtype: shared.image.dtype, shape: shared.image.shape });
console.log('image', image.shape.join('x'), image.data.join(), image.zeroCopy ? 'zero-copy view' : 'copy (no addon)');
block.close();
await manager.close(); // releases what we hold; Python keeps serving
