// examples/serve.mjs
// Node: serves the bundled host (public/host.js) and runs a relay on the same origin at /ws, with a
// stand-in source that publishes a frame time ten times a second. Run it: node examples/serve.mjs
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRelay } from '@webmon/relay';

const html = `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>Frames</title>
<header id="status"></header><main></main><script type="module" src="/host.js"></script>`;
const server = createServer((request, response) => {
  if (request.url === '/') response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
  else if (request.url === '/host.js') response.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync('public/host.js'));
  else response.writeHead(404).end();
});
// The relay checks that pages come from this server's origin; a page opened late gets the last 5 s.
const relay = createRelay({ server, path: '/ws', topics: [{ name: 'napari.frame_time', mode: 'stream', replayMs: 5000 }] });
server.listen(Number(process.env.PORT ?? 8000), '127.0.0.1', () => {
  console.log(`open http://127.0.0.1:${server.address().port}/`);
  relay.setStatus('source.connected', { source: 'napari' });
  setInterval(() => relay.publish('napari.frame_time', { time: Date.now() / 1000, delta_ms: 15 + 5 * Math.random() }), 100);
});
