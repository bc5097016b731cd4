/**
 * Hand-written accept-only checks for the hot messages (a poll every frame, a frame_time per frame).
 *
 * zod stays the one definition: it produces every error, every type and the JSON Schema. These
 * functions only answer "does zod accept this?" faster (zod walks 40 `[row, col]` tuples at ~3× the cost
 * of JSON.parse; a straight loop costs a fraction). When a check says no, the caller runs zod for the
 * precise error. `test/fast-check.test.ts` holds them to zod's verdict on valid and mutated inputs.
 */
import { NapariLimits } from './limits.js';

type Plain = Record<string, unknown>;

function isPlainObject(value: unknown): value is Plain {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isNonNegativeInt = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

function isShape(value: unknown): boolean {
  if (!Array.isArray(value) || value.length < 2 || value.length > 4) return false;
  for (const dim of value) if (!isNonNegativeInt(dim)) return false;
  return true;
}

function isPoint(value: unknown): boolean {
  return Array.isArray(value) && value.length === 2 && isNumber(value[0]) && isNumber(value[1]);
}

function isTileState(value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  const { seen, corners } = value;
  if (!Array.isArray(seen) || seen.length > NapariLimits.maxSeenTiles) return false;
  for (const tile of seen) {
    if (!Array.isArray(tile) || tile.length !== 2 || !isNonNegativeInt(tile[0]) || !isNonNegativeInt(tile[1])) return false;
  }
  return Array.isArray(corners) && corners.length === 2 && isPoint(corners[0]) && isPoint(corners[1]);
}

function isTileConfig(value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  return (
    isShape(value.base_shape) &&
    isShape(value.image_shape) &&
    isShape(value.shape_in_tiles) &&
    isNonNegativeInt(value.tile_size) &&
    value.tile_size >= 1 &&
    isNonNegativeInt(value.level_index)
  );
}

/** True only if `PollSchema` accepts `value`. */
export function quickCheckPoll(value: unknown): boolean {
  if (!isPlainObject(value) || !isPlainObject(value.layers)) return false;
  let count = 0;
  for (const id in value.layers) {
    if (!Object.hasOwn(value.layers, id)) continue;
    if (++count > NapariLimits.maxLayers || id.length < 1 || id.length > NapariLimits.maxLayerIdLength) return false;
    const layer = value.layers[id];
    if (!isPlainObject(layer)) return false;
    if (layer.tile_state !== undefined && !isTileState(layer.tile_state)) return false;
    if (layer.tile_config !== undefined && !isTileConfig(layer.tile_config)) return false;
  }
  return true;
}

/** True only if `FrameTimeSchema` accepts `value`. */
export function quickCheckFrameTime(value: unknown): boolean {
  return isPlainObject(value) && isNumber(value.time) && isNumber(value.delta_ms) && value.delta_ms >= 0;
}

/** True only if `LoadChunkSchema` accepts `value`. */
export function quickCheckLoadChunk(value: unknown): boolean {
  return isPlainObject(value) && isNumber(value.time) && isNonNegativeInt(value.num_bytes) && isNumber(value.load_ms) && value.load_ms >= 0;
}

export { isPlainObject };
