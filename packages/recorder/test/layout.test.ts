import { describe, expect, it } from 'vitest';
import { rawImageMessage } from '../src/layout.js';

describe('rawImageMessage', () => {
  it('writes the pixels as one base64 text, whatever the size (encoded in slices), in valid JSON', () => {
    for (const [height, width] of [[1, 1], [4, 4], [256, 192], [301, 299], [512, 513]] as const) {
      const pixels = new Uint8Array(height * width).map((_, index) => (index * 2654435761) >>> 24);
      const message = rawImageMessage('camera', 1_733_400_000_123_456_789n, { dtype: 'uint8', shape: [height, width], topic: 'camera', seq: 1, time: 0 }, pixels);
      const parsed = JSON.parse(Buffer.from(message as Uint8Array).toString('latin1')) as { data: string; width: number; height: number; step: number; encoding: string; timestamp: { sec: number; nsec: number } };
      expect(parsed.data).toBe(Buffer.from(pixels).toString('base64'));
      expect(parsed).toMatchObject({ width, height, step: width, encoding: 'mono8', timestamp: { sec: 1_733_400_000, nsec: 123_456_789 } });
    }
  });
});
