/**
 * Torn reads (WIRE §4.4): a real CPython writer rewrites a ShareableList slot in a tight loop,
 * with no lock, while Node reads it thousands of times on both access paths. Every value the
 * reader accepts must be one the writer wrote.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ShmReaderError } from '../src/errors.js';
import { openSharedMemory, readShareableList, type SharedMemoryBlock, type ShmByteSource } from '../src/shm/index.js';
import { findPythons, SHM_FIXTURES, spawnScript } from './fixtures/shm/python-peer.js';

// The writer runs until the reader has seen enough (below), at most this long.
const LIMIT_SECONDS = Number(process.env['WEBMON_SHM_TORN_LIMIT_SECONDS'] ?? 30);
const MIN_READS = Number(process.env['WEBMON_SHM_TORN_READS'] ?? 10_000);
const MIN_DISTINCT = 200;
const pythons = findPythons();
// Oldest and newest: the two header layouts.
const writers = pythons.length > 1 ? [pythons[0]!, pythons[pythons.length - 1]!] : pythons;

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
/** The writer's value(k) from torn_writer.py. */
function writerValue(k: number): string {
  return `${k}:${LETTERS[k % 26]!.repeat(k % 50)}`;
}

function isWriterValue(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const match = /^(\d+):/.exec(value);
  return match !== null && writerValue(Number(match[1])) === value;
}

describe.each(writers)('torn-read retry against a CPython $version writer', (python) => {
  it(
    'accepts only values the writer wrote, on the fs and the mmap path',
    async () => {
      const writer = spawnScript(python.path, 'torn_writer.py', [String(LIMIT_SECONDS)]);
      const blocks: SharedMemoryBlock[] = [];
      try {
        const { name } = JSON.parse(await writer.nextLine()) as { name: string };
        blocks.push(openSharedMemory(name, { access: 'fs' }), openSharedMemory(name, { access: 'mmap' }));
        // The application-level check a real consumer has (napari: JSON.parse; a frame counter
        // never goes back). It is what rejects a write left half done by a descheduled writer,
        // which reads back identically over and over (see docs/shm.md).
        const lastCounter = [0, 0];
        const readers = blocks.map((block, which) =>
          readShareableList(block, {
            validate: (value, index) => (index === 1 ? isWriterValue(value) : typeof value === 'number' && value >= lastCounter[which]!),
          }),
        );
        // The same double-read without the application check, only to report how often it
        // alone would have let a half-written slot through.
        const unvalidated = readShareableList(blocks[1]!);
        const slotOffset = readers[0]!.slot(1).offset;
        let finished: { writes: number } | undefined;
        const done = writer.nextLine().then((line) => (finished = JSON.parse(line) as { writes: number }));
        writer.child.stdin.write('go\n');
        let stopSent = false;

        const stats = { fs: 0, mmap: 0, torn: 0, naiveTorn: 0, unvalidatedBad: 0, distinct: new Set<number>() };
        const bad: string[] = [];
        while (!finished) {
          for (let batch = 0; batch < 200; batch++) {
            readers.forEach((reader, which) => {
              try {
                const text = reader.get(1);
                if (!isWriterValue(text)) bad.push(JSON.stringify(text));
                else stats.distinct.add(Number(/^\d+/.exec(text as string)![0]));
                const counter = reader.get(0);
                if (typeof counter !== 'number' || counter < lastCounter[which]!) bad.push(`counter ${String(counter)} after ${lastCounter[which]}`);
                else lastCounter[which] = counter;
                stats[which === 0 ? 'fs' : 'mmap']++;
              } catch (error) {
                // Giving up is a correct outcome under a hammering writer; returning garbage is not.
                if (!(error instanceof ShmReaderError) || error.code !== 'SHM_READER_TORN_READ') throw error;
                stats.torn++;
              }
            });
            try {
              if (!isWriterValue(unvalidated.get(1))) stats.unvalidatedBad++;
            } catch (error) {
              if (!(error instanceof ShmReaderError) || error.code !== 'SHM_READER_TORN_READ') throw error;
            }
            // What one unchecked read would have returned.
            const raw = blocks[1]!.read(slotOffset, 64);
            let end = raw.length;
            while (end > 0 && raw[end - 1] === 0) end--;
            if (!isWriterValue(new TextDecoder().decode(raw.subarray(0, end)))) stats.naiveTorn++;
          }
          // Stop once enough reads overlapped enough writes: a loaded machine may need longer.
          if (!stopSent && stats.fs + stats.mmap >= MIN_READS && stats.distinct.size >= MIN_DISTINCT) {
            writer.child.stdin.write('stop\n');
            stopSent = true;
          }
          await tick(); // let the writer's final line in
        }
        await done;
        console.log(
          `[shm torn ${python.version}] writer updates ${finished.writes}; accepted reads fs ${stats.fs} / mmap ${stats.mmap}; ` +
            `re-reads fs ${readers[0]!.retries} / mmap ${readers[1]!.retries}; SHM_TORN_READ ${stats.torn}; ` +
            `torn values from single unchecked reads ${stats.naiveTorn}, from the double read without validate ${stats.unvalidatedBad}; ` +
            `distinct values seen ${stats.distinct.size}`,
        );
        expect(bad.slice(0, 5)).toEqual([]);
        expect(stats.fs + stats.mmap).toBeGreaterThanOrEqual(MIN_READS);
        expect(stats.torn).toBeLessThan((stats.fs + stats.mmap) / 20);
        // The reads really overlapped the writes (not all before or after them).
        expect(stats.distinct.size).toBeGreaterThanOrEqual(MIN_DISTINCT);
        for (const k of stats.distinct) expect(k).toBeLessThanOrEqual(finished.writes);
      } finally {
        blocks.forEach((block) => block.close());
        writer.child.stdin.end('\n');
        if (writer.child.exitCode === null) await new Promise((resolve) => writer.child.once('exit', resolve));
      }
    },
    120_000,
  );
});

/** A byte source whose slot bytes change on every read, like a writer far faster than the reader. */
class EverChangingSlot implements ShmByteSource {
  private reads = 0;
  constructor(
    private readonly base: Uint8Array,
    private readonly slotAt: number,
  ) {}
  get size(): number {
    return this.base.length;
  }
  readBytes(target: Uint8Array, position: number): void {
    const copy = this.base.slice();
    new DataView(copy.buffer).setBigInt64(this.slotAt, BigInt(++this.reads), true);
    target.set(copy.subarray(position, position + target.length));
  }
  liveBytes(): null {
    return null;
  }
  assertReadable(): void {}
}

describe('bounded retries', () => {
  it('gives up with SHM_TORN_READ when no two consecutive reads agree', () => {
    const dump = new Uint8Array(readFileSync(join(SHM_FIXTURES, 'sl_example.bin')));
    const reader = readShareableList(new EverChangingSlot(dump, 96), { maxRetries: 10 });
    expect(reader.get(1)).toBe(-1); // other slots are stable
    let caught: unknown;
    try {
      reader.get(0);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ShmReaderError);
    expect((caught as ShmReaderError).code).toBe('SHM_READER_TORN_READ');
    expect(reader.retries).toBe(10);
    expect(() => reader.toArray()).toThrow(expect.objectContaining({ code: 'SHM_READER_TORN_READ' }));
  });
});
