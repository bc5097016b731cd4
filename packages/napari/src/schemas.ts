/**
 * napari's data as napari 0.4.3–0.4.19 sends it through its experimental monitor
 * (`napari/components/experimental/monitor`), in the plain-JSON form a webmon client hands over.
 *
 * Decisions that the schemas encode:
 * - Layer ids are Python ints (`id(layer)`), which JSON cannot key a dict by and which may exceed 2^53:
 *   clients hand them over as **decimal strings** (exactly what Python's `json.dumps` does to int keys).
 * - napari sends `seen` (int64 N×2) and `corners` (float64 2×2) as numpy arrays. Clients hand them over as
 *   **plain nested arrays**: they are small (the tiles on screen, not the level) and this keeps the poll a
 *   JSON value that Python producers can validate against the exported JSON Schema. Bulk arrays travel as
 *   binary frames instead (see `frame.ts`).
 * - Unknown fields are kept (loose objects): a newer napari adding a field must not break us.
 */
import { z } from 'zod';
import { CommandNameSchema, JsonValueSchema, ProtocolError, ProtocolErrorCode } from '@webmon/protocol';
import { NapariLimits } from './limits.js';
import { isPlainObject, quickCheckFrameTime, quickCheckLoadChunk, quickCheckPoll } from './fast-check.js';

const NonNegativeIntSchema = z.int().min(0);

/** `[row, col]` of one tile in the current level. */
export const TileIndexSchema = z.tuple([NonNegativeIntSchema, NonNegativeIntSchema]);
export type TileIndex = z.infer<typeof TileIndexSchema>;

/** `[y, x]` in base-level data coordinates. */
export const PointSchema = z.tuple([z.number(), z.number()]);
export type Point = z.infer<typeof PointSchema>;

/** A shape `[rows, cols, …]`: the first two entries are rows and columns. */
export const ShapeSchema = z.array(NonNegativeIntSchema).min(2).max(4);
export type Shape = z.infer<typeof ShapeSchema>;

/** Which tiles napari draws this frame and where the camera looks. */
export const TileStateSchema = z.looseObject({
  /** Tiles napari draws (`[row, col]` in the current level). */
  seen: z.array(TileIndexSchema).max(NapariLimits.maxSeenTiles),
  /** The view frustum: two opposite corners `[[y0, x0], [y1, x1]]` in base-level data coordinates. */
  corners: z.tuple([PointSchema, PointSchema]),
});
export type TileState = z.infer<typeof TileStateSchema>;

/** The current octree level of a layer. */
export const TileConfigSchema = z.looseObject({
  /** Shape of the full-resolution (level 0) image. */
  base_shape: ShapeSchema,
  /** Shape of the image at the current level. */
  image_shape: ShapeSchema,
  /** Tiles per axis at the current level. */
  shape_in_tiles: ShapeSchema,
  /** Edge length of a (square) tile in pixels of the current level. */
  tile_size: z.int().min(1),
  /** Current level, 0 = full resolution. */
  level_index: NonNegativeIntSchema,
});
export type TileConfig = z.infer<typeof TileConfigSchema>;

/** One layer's entry in the poll; `{}` for layers that are not octree images. */
export const LayerDataSchema = z.looseObject({
  tile_state: TileStateSchema.optional(),
  tile_config: TileConfigSchema.optional(),
});
export type LayerData = z.infer<typeof LayerDataSchema>;

export const LayerIdSchema = z.string().min(1).max(NapariLimits.maxLayerIdLength);
export type LayerId = z.infer<typeof LayerIdSchema>;

/** The `poll` entry of `napari_data`, updated by napari every frame. */
export const PollSchema = z.looseObject({
  layers: z.record(LayerIdSchema, LayerDataSchema).refine(
    (layers) => Object.keys(layers).length <= NapariLimits.maxLayers,
    `at most ${NapariLimits.maxLayers} layers`,
  ),
});
export type Poll = z.infer<typeof PollSchema>;

/** `{frame_time: {time, delta_ms}}` on `napari_messages`: one per drawn frame. */
export const FrameTimeSchema = z.looseObject({
  /** `time.time()` when the frame was drawn, seconds since the epoch. */
  time: z.number(),
  /** Time since the previous frame in milliseconds. */
  delta_ms: z.number().min(0),
});
export type FrameTime = z.infer<typeof FrameTimeSchema>;

/** `{load_chunk: {time, num_bytes, load_ms}}` on `napari_messages`: one per loaded chunk. */
export const LoadChunkSchema = z.looseObject({
  /** `time.time()` when the load finished, seconds since the epoch. */
  time: z.number(),
  num_bytes: NonNegativeIntSchema,
  load_ms: z.number().min(0),
});
export type LoadChunk = z.infer<typeof LoadChunkSchema>;

/** A raw item of `napari_messages`: a dict of message name → value. */
export const NapariMessageSchema = z.record(z.string().min(1).max(256), JsonValueSchema);
// (parseNapariMessage validates per name rather than through this record, so a frame_time is checked once.)
export type NapariMessage = z.infer<typeof NapariMessageSchema>;

/**
 * One event from `napari_messages`, tagged. Messages napari may add later (or that a plugin sends)
 * are carried as `unknown`, never dropped.
 */
export const NapariEventSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('frame_time'), data: FrameTimeSchema }),
  z.object({ kind: z.literal('load_chunk'), data: LoadChunkSchema }),
  z.object({ kind: z.literal('unknown'), name: z.string(), value: JsonValueSchema }),
]);
export type NapariEvent = z.infer<typeof NapariEventSchema>;

/**
 * Argument schemas of the commands napari 0.4.x implements (`RemoteCommands`). napari ≥ 0.5 implements none.
 * Names come from the protocol's `CommandNameSchema` (public identifiers only: napari calls
 * `getattr(self, name)(args)`, so `__init__` and friends must never reach it).
 */
export const KnownCommandArgs = {
  /** Show or hide the octree tile grid of the layers. */
  show_grid: z.boolean(),
} as const;
export type KnownCommandName = keyof typeof KnownCommandArgs;

/** `{show_grid: boolean}` — the command the tile viewer sends. */
export const ShowGridCommandSchema = z.strictObject({ show_grid: KnownCommandArgs.show_grid });
export type ShowGridCommand = z.infer<typeof ShowGridCommandSchema>;

/**
 * What goes on `client_messages`: `{<command name>: value}`, exactly one command per item. Known commands
 * have their argument validated; other names carry any JSON value (napari calls the method of that name).
 */
export const NapariCommandSchema = z
  .record(CommandNameSchema, JsonValueSchema)
  .superRefine((command, ctx) => {
    const names = Object.keys(command);
    if (names.length !== 1) {
      ctx.addIssue({ code: 'custom', message: `exactly one command per message, got ${names.length}` });
      return;
    }
    const name = names[0] as string;
    const argsSchema = (KnownCommandArgs as Record<string, z.ZodType>)[name];
    if (argsSchema && !argsSchema.safeParse(command[name]).success) {
      ctx.addIssue({ code: 'custom', path: [name], message: `invalid argument for ${name}` });
    }
  });
export type NapariCommand = z.infer<typeof NapariCommandSchema>;

/**
 * What the napari behind a source can do, published by the bridge on `<prefix>.info`. napari 0.4 with an
 * octree layer sends tile data and runs `show_grid`; napari ≥ 0.5 (or 0.4 without octree) sends neither.
 */
export const NapariInfoSchema = z.looseObject({
  /** A layer with octree tile data is present in the newest poll. */
  octree: z.boolean(),
  /** Commands this napari runs now (only `show_grid`, only while an octree layer is present). */
  commands: z.array(CommandNameSchema).max(64),
  /** One sentence for people: which napari this looks like and what it sends. */
  summary: z.string().max(512),
});
export type NapariInfo = z.infer<typeof NapariInfoSchema>;

/**
 * Validates a poll value; throws `ProtocolError` (`PROTOCOL_INVALID_MESSAGE`). A valid value is returned as is
 * (not copied): the hot path is a hand-written check that zod's verdict backs (see `fast-check.ts`).
 */
export function parsePoll(value: unknown): Poll {
  if (quickCheckPoll(value)) return value as Poll;
  const result = PollSchema.safeParse(value);
  if (!result.success) throw ProtocolError.fromZod('napari poll', result.error);
  return result.data;
}

const MAX_MESSAGE_NAME_LENGTH = 256; // as NapariMessageSchema's key

/**
 * The one message name that is not a message: `{webmon_batch: [item, item, …]}` carries several
 * `napari_messages` items in one, in order. The `webmon` Python module's queue hands a backlog over
 * this way (one manager round trip for many messages, which a flood needs); napari never sends it.
 */
export const MESSAGE_BATCH_KEY = 'webmon_batch';

/**
 * Splits one `napari_messages` item into tagged events (a dict may carry several names; a
 * `webmon_batch` list carries several items). Throws `ProtocolError` when the item is not a dict or a
 * known message is malformed (for a batch: when any of its items is).
 */
export function parseNapariMessage(value: unknown): NapariEvent[] {
  if (isPlainObject(value) && Object.hasOwn(value, MESSAGE_BATCH_KEY) && Array.isArray(value[MESSAGE_BATCH_KEY])) {
    const events: NapariEvent[] = [];
    for (const item of value[MESSAGE_BATCH_KEY] as unknown[]) {
      if (isPlainObject(item) && Object.hasOwn(item, MESSAGE_BATCH_KEY)) throw invalidMessage([MESSAGE_BATCH_KEY], 'a batch inside a batch');
      events.push(...parseOneMessage(item));
    }
    return events;
  }
  return parseOneMessage(value);
}

function parseOneMessage(value: unknown): NapariEvent[] {
  if (!isPlainObject(value)) throw invalidMessage([], 'expected a dict of message name → value');
  const events: NapariEvent[] = [];
  for (const name in value) {
    if (!Object.hasOwn(value, name)) continue;
    const body = value[name];
    if (name.length < 1 || name.length > MAX_MESSAGE_NAME_LENGTH) throw invalidMessage([name.slice(0, 64)], `message names are 1–${MAX_MESSAGE_NAME_LENGTH} characters`);
    if (name === 'frame_time') {
      if (quickCheckFrameTime(body)) {
        events.push({ kind: 'frame_time', data: body as FrameTime });
        continue;
      }
      const parsed = FrameTimeSchema.safeParse(body);
      if (!parsed.success) throw ProtocolError.fromZod('frame_time message', prefixPath(parsed.error, name));
      events.push({ kind: 'frame_time', data: parsed.data });
    } else if (name === 'load_chunk') {
      if (quickCheckLoadChunk(body)) {
        events.push({ kind: 'load_chunk', data: body as LoadChunk });
        continue;
      }
      const parsed = LoadChunkSchema.safeParse(body);
      if (!parsed.success) throw ProtocolError.fromZod('load_chunk message', prefixPath(parsed.error, name));
      events.push({ kind: 'load_chunk', data: parsed.data });
    } else {
      const parsed = JsonValueSchema.safeParse(body);
      if (!parsed.success) throw ProtocolError.fromZod('napari message', prefixPath(parsed.error, name));
      events.push({ kind: 'unknown', name, value: parsed.data });
    }
  }
  return events;
}

/** Builds the `client_messages` item for a command, validating name and (for known commands) argument. */
export function toNapariCommand(name: string, args: unknown): NapariCommand {
  const result = NapariCommandSchema.safeParse({ [name]: args });
  if (!result.success) throw ProtocolError.fromZod('napari command', result.error);
  return result.data;
}

function invalidMessage(path: string[], message: string): ProtocolError {
  return new ProtocolError(ProtocolErrorCode.INVALID_MESSAGE, `invalid napari message: ${message}`, { issues: [{ path, message }] });
}

function prefixPath(error: z.ZodError, key: string): z.ZodError {
  for (const issue of error.issues) issue.path.unshift(key);
  return error;
}
