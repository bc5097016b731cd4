import { describe, expect, it } from 'vitest';
import { DTYPE_ITEM_SIZE, ProtocolError, decodeFrame, encodeFrame, parseClientMessage, type NumericDType } from '../src/index.js';
import { random } from './helpers.js';


function seeds(): Uint8Array[] {
  const dtypes = Object.keys(DTYPE_ITEM_SIZE) as NumericDType[];
  const out = dtypes.map((dtype, i) => encodeFrame({ topic: `t${i}`, seq: i, time: i, dtype, shape: [3, 2] }, new Uint8Array(6 * DTYPE_ITEM_SIZE[dtype])));
  out.push(
    encodeFrame(
      { topic: 'rec', seq: 1, time: 1, dtype: 'record', shape: [2], itemSize: 12, fields: [{ name: 'a', dtype: 'float64', offset: 0 }, { name: 'b', dtype: 'int32', offset: 8 }] },
      new Uint8Array(24),
    ),
  );
  return out;
}

function mutate(input: Uint8Array, next: () => number): Uint8Array {
  const bytes = Uint8Array.from(input);
  const choice = Math.floor(next() * 5);
  const at = Math.floor(next() * bytes.length);
  switch (choice) {
    case 0: // flip bits
      for (let i = 0; i < 1 + next() * 4; i++) bytes[Math.floor(next() * bytes.length)]! ^= 1 << Math.floor(next() * 8);
      return bytes;
    case 1: // truncate
      return bytes.subarray(0, at);
    case 2: // random length field
      new DataView(bytes.buffer).setUint32(4, Math.floor(next() * 2 ** 32), true);
      return bytes;
    case 3: { // splice random bytes into the header
      for (let i = 0; i < 8; i++) bytes[8 + Math.floor(next() * Math.min(64, bytes.length - 8))] = Math.floor(next() * 256);
      return bytes;
    }
    default: { // random garbage, sometimes with a valid prefix
      const garbage = new Uint8Array(Math.floor(next() * 256));
      for (let i = 0; i < garbage.length; i++) garbage[i] = Math.floor(next() * 256);
      if (next() < 0.5 && garbage.length >= 4) garbage.set([0x57, 0x4d, 0x46, 1]);
      return garbage;
    }
  }
}

describe('fuzz: binary decoder and text parser never crash or hang', () => {
  it('only ever throws ProtocolError on 30,000 mutated frames', () => {
    const next = random(0xc0ffee);
    const corpus = seeds();
    let rejected = 0;
    const started = Date.now();
    for (let i = 0; i < 30_000; i++) {
      const input = mutate(corpus[i % corpus.length]!, next);
      try {
        decodeFrame(input);
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw new Error(`input #${i} threw ${String(error)}`);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(20_000); // most mutations must be caught, not silently accepted
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it('only ever throws ProtocolError on 20,000 mutated client messages', () => {
    const next = random(42);
    const texts = ['{"type":"subscribe","topics":["a"]}', '{"type":"command","id":"1","name":"show_grid","args":true}', '{"type":"ping","id":"p","time":1}'];
    for (let i = 0; i < 20_000; i++) {
      const chars = [...texts[i % texts.length]!];
      for (let k = 0; k < 1 + next() * 3; k++) chars[Math.floor(next() * chars.length)] = String.fromCharCode(Math.floor(next() * 128));
      try {
        parseClientMessage(chars.join(''));
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw new Error(`text #${i} threw ${String(error)}`);
      }
    }
  });
});
