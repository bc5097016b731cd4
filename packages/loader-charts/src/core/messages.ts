import type { FrameTime, LoadChunk, NapariEvent } from '@webmon/napari';
import { LoaderChartsError, LoaderChartsErrorCode } from '../errors.js';

/**
 * What the loader charts accept: a tagged event from `parseNapariMessage` (`unknown` events are ignored)
 * or a bare `FrameTime` / `LoadChunk` value, told apart by their fields.
 */
export type LoaderMessage = NapariEvent | FrameTime | LoadChunk;

/** A normalised sample; `timeMs` is the message's `time` (seconds since the epoch) in milliseconds. */
export type LoaderSample =
  | { kind: 'frame_time'; timeMs: number; deltaMs: number }
  | { kind: 'load_chunk'; timeMs: number; loadMs: number; numBytes: number };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

function invalid(reason: string): LoaderChartsError {
  return new LoaderChartsError(LoaderChartsErrorCode.INVALID_MESSAGE, `not a frame_time or load_chunk message: ${reason}`);
}

function frameSample(value: Record<string, unknown>): LoaderSample {
  const { time, delta_ms: deltaMs } = value;
  if (!isFiniteNumber(time)) throw invalid('frame_time.time must be a finite number');
  if (!isFiniteNumber(deltaMs) || deltaMs < 0) throw invalid('frame_time.delta_ms must be a finite number ≥ 0');
  return { kind: 'frame_time', timeMs: time * 1000, deltaMs };
}

function loadSample(value: Record<string, unknown>): LoaderSample {
  const { time, load_ms: loadMs, num_bytes: numBytes } = value;
  if (!isFiniteNumber(time)) throw invalid('load_chunk.time must be a finite number');
  if (!isFiniteNumber(loadMs) || loadMs < 0) throw invalid('load_chunk.load_ms must be a finite number ≥ 0');
  if (!isFiniteNumber(numBytes) || numBytes < 0) throw invalid('load_chunk.num_bytes must be a finite number ≥ 0');
  return { kind: 'load_chunk', timeMs: time * 1000, loadMs, numBytes };
}

/**
 * Checks and normalises one message. Returns `null` for an `unknown` napari event (napari or a plugin
 * may send other messages on the same stream; they are not ours to chart). Throws `INVALID_MESSAGE`
 * otherwise. This is a cheap structural check, not the protocol's zod validation: the data normally
 * arrives already validated by `parseNapariMessage`, and this keeps zod out of the chart's bundle.
 */
export function toLoaderSample(message: unknown): LoaderSample | null {
  if (!isRecord(message)) throw invalid(`expected an object, got ${message === null ? 'null' : typeof message}`);
  if (typeof message.kind === 'string') {
    if (message.kind === 'unknown') return null;
    if (!isRecord(message.data)) throw invalid(`event "${message.kind}" has no data object`);
    if (message.kind === 'frame_time') return frameSample(message.data);
    if (message.kind === 'load_chunk') return loadSample(message.data);
    throw invalid(`unknown event kind "${message.kind}"`);
  }
  if ('delta_ms' in message) return frameSample(message);
  if ('load_ms' in message || 'num_bytes' in message) return loadSample(message);
  throw invalid('expected delta_ms (frame_time) or load_ms and num_bytes (load_chunk)');
}
