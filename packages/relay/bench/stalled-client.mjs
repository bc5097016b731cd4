// A page that stops reading: the soak benchmark freezes this process with SIGSTOP.
// Usage: node stalled-client.mjs <url> <topic,...>. Prints each text message as one line.
import WebSocket from 'ws';

const [url, topics] = process.argv.slice(2);
const socket = new WebSocket(url, ['webmon.v1']);
socket.on('message', (data, isBinary) => {
  if (isBinary) {
    process.stdout.write(`${JSON.stringify({ type: 'binary', bytes: data.length })}\n`);
    return;
  }
  const text = data.toString();
  process.stdout.write(`${text}\n`);
  if (text.includes('"type":"hello"')) socket.send(JSON.stringify({ type: 'subscribe', id: 's', topics: topics.split(',') }));
});
socket.on('close', (code) => {
  process.stdout.write(`${JSON.stringify({ type: 'closed', code })}\n`);
  process.exit(0);
});
socket.on('error', () => undefined);
