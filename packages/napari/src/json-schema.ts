import { z } from 'zod';
import { FrameTimeSchema, LoadChunkSchema, NapariCommandSchema, NapariInfoSchema, NapariMessageSchema, PollSchema } from './schemas.js';
import { NapariSchemaId } from './topics.js';

/** Every napari payload schema by its id: the source of the JSON Schema files in `schema/`. */
export const napariSchemasById: Readonly<Record<NapariSchemaId, z.ZodType>> = {
  [NapariSchemaId.poll]: PollSchema,
  [NapariSchemaId.frameTime]: FrameTimeSchema,
  [NapariSchemaId.loadChunk]: LoadChunkSchema,
  [NapariSchemaId.message]: NapariMessageSchema,
  [NapariSchemaId.command]: NapariCommandSchema,
  [NapariSchemaId.info]: NapariInfoSchema,
};

/** JSON Schema files (draft 2020-12) of napari's payloads, by file name, for Python producers. */
export function napariJsonSchemas(): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const id of Object.values(NapariSchemaId)) {
    const file = `${id.replace(/^webmon\.v1\//, '')}.schema.json`;
    const schema = z.toJSONSchema(napariSchemasById[id], { target: 'draft-2020-12', io: 'input' });
    out[file] = { ...schema, $id: `https://webmon.dev/schema/${file}`, title: id };
  }
  return out;
}
