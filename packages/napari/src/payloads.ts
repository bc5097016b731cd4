import type { FrameTime, LoadChunk, NapariInfo, Poll } from './schemas.js';

/** Payload types of the built-in napari topics (default prefix). Binary topics carry frames instead. */
export interface NapariTopicPayloads {
  'napari.layers': Poll;
  'napari.frame_time': FrameTime;
  'napari.load_chunk': LoadChunk;
  'napari.info': NapariInfo;
}
