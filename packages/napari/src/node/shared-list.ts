/**
 * The older napari variant: a ShareableList `[frame_number, json_str, json_str]` that napari's
 * MonitorService rewrites every frame (JSON slot first, then the counter; no lock — WIRE §4.4).
 * Read through `../shm` (positioned reads of just the slot that is needed).
 */
import { ShareableListReader, ShmReaderError, ShmReaderErrorCode, openSharedMemory } from '@webmon/shm-reader';

/** Where the napari client reads shared-list frames from. */
export interface SharedListSource {
  /** The frame counter (slot 0). */
  readFrame(): number;
  /** The JSON text (slot 1). */
  readJson(): string;
  close(): void;
}

export function openNapariSharedList(name: string): SharedListSource {
  const block = openSharedMemory(name);
  try {
    const reader = new ShareableListReader(block);
    if (reader.length < 2) {
      throw new ShmReaderError(ShmReaderErrorCode.SHM_LAYOUT, `${name}: napari's list has [frame, json, json], found ${reader.length} items`);
    }
    return {
      readFrame() {
        const frame = reader.get(0);
        if (typeof frame === 'bigint') return Number(frame);
        if (typeof frame !== 'number') throw new ShmReaderError(ShmReaderErrorCode.SHM_LAYOUT, `${name}: slot 0 is not an int`);
        return frame;
      },
      readJson() {
        const text = reader.get(1);
        if (typeof text !== 'string') throw new ShmReaderError(ShmReaderErrorCode.SHM_LAYOUT, `${name}: slot 1 is not a str`);
        return text;
      },
      close: () => block.close(),
    };
  } catch (error) {
    block.close();
    throw error;
  }
}
