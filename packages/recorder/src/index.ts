// @webmon/recorder — records a webmon relay's topics to MCAP files (Node).

// Recording to a file
export { recordToFile } from './file-recorder.js';
export type { FileRecorder, FileRecorderOptions, FileRecorderStats, RecordingOptions } from './file-recorder.js';
export { openFileWritable } from './file-writable.js';
export type { RecordingWritable } from './recording-writable.js';

// Flight recorder
export { createFlightRecorder, DEFAULT_FLIGHT_RECORDER_BYTES, MAX_SAVE_SECONDS } from './flight-recorder.js';
export type { FlightRecorder, FlightRecorderOptions, FlightRecorderStats } from './flight-recorder.js';

// File layout
export { FRAME_MESSAGE_ENCODING, IMAGE_CHANNEL_SUFFIX, RAW_IMAGE_SCHEMA } from './layout.js';
export type { JsonSchemaLookup } from './layout.js';
export { decompressHandlers } from './compression.js';
export type { ChunkCompression } from './compression.js';
export type { Tappable } from './tap.js';

// Errors
export { RecorderError, RecorderErrorCode, isRecorderError } from './errors.js';

// Reading a recording (replay)
export { openRecording } from './reader/recording.js';
export type { OpenRecordingOptions, ReadOptions, RecordedFrameMessage, RecordedJsonMessage, RecordedMessage, Recording, RecordingProblems } from './reader/recording.js';
export { FILE_FORMAT_VERSION, FORMAT_METADATA_NAME } from './layout.js';

// Replaying a recording into a relay
export { MAX_REPLAY_SPEED, MIN_REPLAY_SPEED, replayToRelay } from './replay/player.js';
export type { ReplayOptions, ReplayPlayer, ReplayState, ReplayStatus, ReplayTarget, ReplayTimeline } from './replay/player.js';
