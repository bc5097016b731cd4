// examples/record.mjs
// Records a relay's topics to an MCAP file, then reads the file back through its index with @mcap/core;
// the flight recorder saves the last seconds from memory. Everything in one process; it exits by itself.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McapIndexedReader } from '@mcap/core';
import { createRelay } from '@webmon/relay';
import { createFlightRecorder, decompressHandlers, recordToFile } from '@webmon/recorder';

const relay = createRelay({ topics: [{ name: 'camera.stats', mode: 'latest' }, { name: 'camera.frame', mode: 'latest', binary: true }] });
const dir = mkdtempSync(join(tmpdir(), 'recorder-example-'));
const path = join(dir, 'run.mcap');

const flight = createFlightRecorder(relay, { maxBytes: 16 * 2 ** 20 }); // the last minutes, in memory
const recorder = await recordToFile(relay, { path }); // every topic, to a file
for (let n = 0; n < 3; n++) relay.publish('camera.stats', { fps: 59 + n });
relay.publishFrame('camera.frame', { dtype: 'uint8', shape: [2, 3] }, new Uint8Array([0, 50, 100, 150, 200, 250]));
await recorder.close(); // summary and index: the file is complete

async function describe(bytes) {
  const reader = await McapIndexedReader.Initialize({
    readable: { size: async () => BigInt(bytes.byteLength), read: async (offset, size) => bytes.subarray(Number(offset), Number(offset + size)) },
    decompressHandlers: await decompressHandlers(),
  });
  const counts = new Map();
  for await (const message of reader.readMessages()) {
    const channel = reader.channelsById.get(message.channelId);
    counts.set(channel.topic, (counts.get(channel.topic) ?? 0) + 1);
  }
  for (const channel of reader.channelsById.values()) {
    const schema = reader.schemasById.get(channel.schemaId);
    console.log(`${channel.topic}: ${counts.get(channel.topic) ?? 0} × ${channel.messageEncoding}, schema ${schema.name} (${schema.encoding})`);
  }
}

console.log('file:');
await describe(readFileSync(path));
console.log('flight recorder, last 60 s:');
await describe(await flight.save(60));
flight.close();
await relay.close();
rmSync(dir, { recursive: true, force: true });
