import { describe, expect, it } from 'vitest';
import { TopicNameSchema } from '@webmon/protocol';
import { NapariTopics, isNapariPrefix, napariTopicNames } from '../src/index.js';

describe('napariTopicNames', () => {
  const names = napariTopicNames();

  it('keeps the names the built-in pages use for the default prefix', () => {
    expect([names.layers, names.frameTime, names.loadChunk, names.info]).toEqual([NapariTopics.layers.name, NapariTopics.frameTime.name, NapariTopics.loadChunk.name, NapariTopics.info.name]);
    expect(names.message('frame_time')).toBe('napari.frame_time');
    expect(names.message('load_chunk')).toBe('napari.load_chunk');
    expect(names.ring('napari.image')).toBe('napari.image');
  });

  it('names every other key and kind predictably, under the prefix', () => {
    expect(names.data('my_plugin')).toBe('napari.data.my_plugin');
    expect(names.message('my_event')).toBe('napari.message.my_event');
    expect(napariTopicNames('napari2').data('my_plugin')).toBe('napari2.data.my_plugin');
    expect(napariTopicNames('napari2').ring('napari.image')).toBe('napari2.image');
  });

  it('makes a safe, distinct topic of any Python key (changed or long names get a hash of the original)', () => {
    const keys = ['a.b', 'a_b', 'a b', 'ünïcode', '', '9', 'x'.repeat(300), 'x'.repeat(301), 'a/b', 'a:b'];
    const topics = keys.map((key) => names.data(key));
    expect(new Set(topics).size).toBe(keys.length);
    for (const topic of topics) expect(TopicNameSchema.safeParse(topic).success, topic).toBe(true);
    expect(names.data('a_b')).toBe('napari.data.a_b');
    expect(names.data('a.b')).toMatch(/^napari\.data\.a_b_[0-9a-f]{8}$/);
    // Stable across calls and processes (FNV-1a), so a bookmark keeps working.
    expect(names.data('a.b')).toBe(napariTopicNames().data('a.b'));
  });

  it('never lets a ring take the name of a JSON topic of the same source', () => {
    for (const ring of ['layers', 'napari.layers', 'info', 'frame_time', 'load_chunk', 'data.x', 'message.y']) {
      const topic = names.ring(ring);
      expect([names.layers, names.info, names.frameTime, names.loadChunk, names.data('x'), names.message('y')]).not.toContain(topic);
      expect(topic.startsWith('napari.ring.')).toBe(true);
    }
  });

  it('checks prefixes', () => {
    expect(isNapariPrefix('napari2')).toBe(true);
    for (const bad of ['', '2napari', 'a.b', 'a b', 'x'.repeat(33)]) {
      expect(isNapariPrefix(bad)).toBe(false);
      expect(() => napariTopicNames(bad)).toThrow(TypeError);
    }
  });
});
