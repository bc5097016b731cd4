import { z } from 'zod';
import { ClientMessageSchema, ServerMessageSchema } from './browser.js';
import { FrameHeaderSchema } from './frame-schema.js';
import { JsonValueSchema } from './json.js';
import { SchemaId } from './topics.js';

/** Every message schema by its id: the source of the JSON Schema files in `schema/`. */
export const schemasById: Readonly<Record<SchemaId, z.ZodType>> = {
  [SchemaId.json]: JsonValueSchema,
  // A frame's JSON part is its header; the data follows as bytes.
  [SchemaId.frame]: FrameHeaderSchema,
  [SchemaId.serverMessage]: ServerMessageSchema,
  [SchemaId.clientMessage]: ClientMessageSchema,
  [SchemaId.frameHeader]: FrameHeaderSchema,
};

/** File name of a schema id inside the package's `schema/` folder. */
export function jsonSchemaFileName(id: SchemaId): string {
  return `${id.replace(/^webmon\.v1\//, '')}.schema.json`;
}

/**
 * JSON Schema (draft 2020-12) of one message, so producers in other languages (Python) can validate
 * what they send. Cross-field rules written as zod refinements (e.g. "exactly one command") are not
 * expressible here and are checked by webmon on receipt.
 */
export function toJsonSchema(id: SchemaId): Record<string, unknown> {
  const schema = z.toJSONSchema(schemasById[id], { target: 'draft-2020-12', io: 'input' });
  return { ...schema, $id: `https://webmon.dev/schema/${jsonSchemaFileName(id)}`, title: id };
}

export function allJsonSchemas(): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const id of Object.values(SchemaId)) out[jsonSchemaFileName(id)] = toJsonSchema(id);
  return out;
}
