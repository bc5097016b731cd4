/**
 * WebSocket frame headers (RFC 6455 §5.2) for server frames, which are never masked. Broadcasting
 * builds each message's frame once and writes the same bytes to every socket, instead of asking `ws`
 * to frame it again per client (which dominated the fan-out profile).
 */
export const Opcode = { TEXT: 0x1, BINARY: 0x2 } as const;

export function frameHeader(opcode: number, payloadLength: number): Buffer {
  if (payloadLength < 126) {
    const header = Buffer.allocUnsafe(2);
    header[0] = 0x80 | opcode;
    header[1] = payloadLength;
    return header;
  }
  if (payloadLength < 65_536) {
    const header = Buffer.allocUnsafe(4);
    header[0] = 0x80 | opcode;
    header[1] = 126;
    header.writeUInt16BE(payloadLength, 2);
    return header;
  }
  const header = Buffer.allocUnsafe(10);
  header[0] = 0x80 | opcode;
  header[1] = 127;
  header.writeUInt32BE(Math.floor(payloadLength / 2 ** 32), 2);
  header.writeUInt32BE(payloadLength >>> 0, 6);
  return header;
}

/** A complete text frame of `text` in one buffer. */
export function textFrame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const header = frameHeader(Opcode.TEXT, length);
  const frame = Buffer.allocUnsafe(header.length + length);
  header.copy(frame, 0);
  frame.write(text, header.length, 'utf8');
  return frame;
}
