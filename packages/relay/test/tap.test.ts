import type { FrameInit, TopicInfo } from '@webmon/protocol';
import { describe, expect, it } from 'vitest';
import { createRelay } from '../src/index.js';

describe('relay.tap', () => {
  it('reports declared topics at once and later ones, retirements, JSON values and frames; the remover stops it', async () => {
    const relay = createRelay({ topics: [{ name: 'a', mode: 'latest' }] });
    const seen: string[] = [];
    let frameSeen: { header: FrameInit; headerBytes: Uint8Array; data: Uint8Array } | undefined;
    const data = new Float32Array([1, 2]);
    const untap = relay.tap({
      declared: (info: TopicInfo) => seen.push(`declared ${info.name} ${info.mode}`),
      retired: (name) => seen.push(`retired ${name}`),
      json: (info, seq, _time, payloadJson) => seen.push(`json ${info.name} ${seq} ${payloadJson}`),
      frame: (info, header, headerBytes, bytes) => {
        seen.push(`frame ${info.name} ${header.seq}`);
        frameSeen = { header, headerBytes, data: bytes };
      },
    });
    relay.declareTopic({ name: 'f', mode: 'latest', binary: true });
    relay.publish('a', { x: 1 });
    relay.publishFrame('f', { dtype: 'float32', shape: [2], time: 5 }, data);
    relay.retireTopic('a');
    untap();
    relay.declareTopic({ name: 'b', mode: 'latest' });
    expect(seen).toEqual(['declared a latest', 'declared f latest', 'json a 0 {"x":1}', 'frame f 0', 'retired a']);
    // The producer's bytes, not a copy; the header as encoded for pages.
    expect(frameSeen?.data.buffer).toBe(data.buffer);
    expect(frameSeen?.header.time).toBe(5);
    expect(String.fromCharCode(...(frameSeen?.headerBytes.subarray(0, 3) ?? []))).toBe('WMF');
    await relay.close();
  });

  it('a tap that throws is removed; publishing goes on', async () => {
    const relay = createRelay({ topics: [{ name: 'a', mode: 'stream' }] });
    let calls = 0;
    relay.tap({
      json: () => {
        calls += 1;
        throw new Error('broken tap');
      },
    });
    expect(relay.publish('a', 1)).toBe(0);
    expect(relay.publish('a', 2)).toBe(1);
    expect(calls).toBe(1);
    await relay.close();
  });
});
