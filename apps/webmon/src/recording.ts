/**
 * Recording while serving (`--record`, `webmon record`, and under `webmon run`): the file is opened before
 * any source is reached (a bad path is a usage-time error), and closed after the sources stop.
 */
import { napariJsonSchemas } from '@webmon/napari';
import type { Relay } from '@webmon/relay';
import { recordToFile, type FileRecorder, type JsonSchemaLookup } from '@webmon/recorder';
import { WebmonError, WebmonErrorCode } from './errors.js';
import type { Logger } from './logger.js';

/** The topics' JSON Schemas for recordings: napari's, by id (the generic ones come with the recorder). */
export function recordingSchemas(): JsonSchemaLookup {
  const byId = new Map(Object.values(napariJsonSchemas()).map((schema) => [String(schema['title']), schema]));
  return (id) => byId.get(id);
}

export async function startRecording(relay: Relay, path: string, logger: Logger, rawImageHz: number): Promise<FileRecorder> {
  let recorder: FileRecorder;
  try {
    recorder = await recordToFile(relay, { path, schemas: recordingSchemas(), rawImageHz });
  } catch (error) {
    throw new WebmonError(WebmonErrorCode.RECORD_FAILED, `cannot record to ${path}: ${(error as Error).message}`, { cause: error });
  }
  logger.info(`recording every topic to ${path}`);
  return recorder;
}

/** Closes the file (summary and index); a write error that stopped it early is said, not thrown. */
export async function finishRecording(recorder: FileRecorder | undefined, logger: Logger): Promise<void> {
  if (recorder === undefined) return;
  try {
    await recorder.close();
    const stats = recorder.stats();
    logger.info(`recording ${stats.path ?? ''} closed: ${stats.messages} messages, ${stats.bytesWritten} bytes${stats.droppedTotal > 0 ? `, ${stats.droppedTotal} values dropped (the disk was slower than the data)` : ''}`);
  } catch (error) {
    logger.warn((error as Error).message);
  }
}
