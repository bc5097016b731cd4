/**
 * Ids of the generic payload schemas that `TopicInfo.schema` names. Sources add their own ids; a client that does not know an id treats the payload as plain JSON.
 */
export const SchemaId = {
  /** Any JSON value: the default of a topic that says nothing more. */
  json: 'webmon.v1/json',
  /** A binary array frame (see `frame.ts`). */
  frame: 'webmon.v1/frame',
  serverMessage: 'webmon.v1/server-message',
  clientMessage: 'webmon.v1/client-message',
  frameHeader: 'webmon.v1/frame-header',
} as const;
export type SchemaId = (typeof SchemaId)[keyof typeof SchemaId];
