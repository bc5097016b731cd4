export { Connection, CONNECTION_DEFAULTS, type ConnectOptions, type FrameHandler } from './connection.js';
export { FrameReader, encodeFrame, type FrameReaderHandlers } from './framing.js';
export { answerChallenge, makeChallenge, verifyResponse, type ChallengeForm } from './handshake.js';
