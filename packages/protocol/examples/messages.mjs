// examples/messages.mjs
// Both ends of a webmon.v1 connection in one file: a page's request, the server's answers (a JSON value
// and a binary array frame), and what happens to a message that does not fit the protocol.
import {
  SUBPROTOCOL, encodeClientMessage, parseClientMessage, encodeServerMessage, parseServerMessage,
  encodeFrame, decodeFrame, isProtocolError,
} from '@webmon/protocol';

// The page subscribes (text frames are JSON); the server validates what arrives, never casts it.
const request = parseClientMessage(encodeClientMessage({ type: 'subscribe', id: '1', topics: ['camera.stats'] }));
console.log(SUBPROTOCOL, request.type, request.topics.join());

// The server publishes a JSON value and an array; the page validates and decodes both.
const text = encodeServerMessage({ type: 'data', topic: 'camera.stats', seq: 7, time: Date.now(), payload: { fps: 59.8 } });
const message = parseServerMessage(text);
if (message.type === 'data') console.log(message.topic, message.seq, JSON.stringify(message.payload));
const pixels = new Uint16Array([0, 1024, 2048, 4095]);
const frame = decodeFrame(encodeFrame({ topic: 'camera.frame', seq: 8, time: Date.now(), dtype: 'uint16', shape: [2, 2] }, pixels));
console.log(frame.topic, frame.dtype, frame.shape.join('x'), frame.data.join(), frame.zeroCopy ? 'zero-copy view' : 'copy');

// A peer's mistake is a ProtocolError with a stable code: here a command name that is not a public identifier.
try {
  parseClientMessage('{"type":"command","id":"2","name":"__init__","args":null}');
} catch (error) {
  if (!isProtocolError(error)) throw error;
  console.log(error.code, error.issues.map((issue) => issue.path.join('.')).join());
}
