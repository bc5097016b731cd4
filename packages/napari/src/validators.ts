/**
 * Payload checks by schema id, for whoever receives napari topics: the relay client takes them as
 * `payloadValidators`, the relay as a topic's `validate`. A check returns the payload (typed) or throws
 * `ProtocolError`.
 */
import { FrameTimeSchema, LoadChunkSchema, NapariInfoSchema, NapariMessageSchema, parsePoll } from './schemas.js';
import { quickCheckFrameTime, quickCheckLoadChunk } from './fast-check.js';
import { NapariSchemaId } from './topics.js';
import { ProtocolError } from '@webmon/protocol';
import type { z } from 'zod';

export type PayloadValidator = (payload: unknown) => unknown;

function withFastPath(quick: (value: unknown) => boolean, schema: z.ZodType, what: string): PayloadValidator {
  return (payload) => {
    if (quick(payload)) return payload;
    const result = schema.safeParse(payload);
    if (!result.success) throw ProtocolError.fromZod(what, result.error);
    return result.data;
  };
}

function bySchema(schema: z.ZodType, what: string): PayloadValidator {
  return withFastPath(() => false, schema, what);
}

/** Checks of every JSON payload schema napari topics announce. */
export const napariPayloadValidators: Readonly<Record<string, PayloadValidator>> = {
  [NapariSchemaId.poll]: parsePoll,
  [NapariSchemaId.frameTime]: withFastPath(quickCheckFrameTime, FrameTimeSchema, 'frame_time message'),
  [NapariSchemaId.loadChunk]: withFastPath(quickCheckLoadChunk, LoadChunkSchema, 'load_chunk message'),
  [NapariSchemaId.message]: bySchema(NapariMessageSchema, 'napari message'),
  [NapariSchemaId.info]: bySchema(NapariInfoSchema, 'napari info'),
};
