/**
 * Attach to a block created by Python's `multiprocessing.shared_memory.SharedMemory` (WIRE §4.1).
 *
 * On Linux a POSIX shm object is the tmpfs file `/dev/shm/<name>`, so plain positioned reads
 * (`pread`) see the writers' pages. When the optional addon is built, the block is also mmapped
 * and exposed as a live zero-copy `Uint8Array`. Either way this module never unlinks anything:
 * the block belongs to Python (its creator and resource tracker, WIRE §4.2).
 */
import { closeSync, existsSync, fstatSync, openSync, read, readFileSync, readSync, readdirSync, writeSync } from 'node:fs';
import { ShmReaderError, ShmReaderErrorCode } from '../errors.js';
import { nativeAddon } from './native.js';
import { checkRange, type ShmByteSource } from './source.js';

/** How a block is read: `mmap` = zero-copy through the addon, `fs` = positioned reads. */
export type ShmAccess = 'mmap' | 'fs';

export interface OpenSharedMemoryOptions {
  /**
   * `'auto'` (default): mmap when the addon is available, else fs, silently.
   * `'mmap'`: require the addon (SHM_NATIVE_UNAVAILABLE otherwise). `'fs'`: never map.
   */
  access?: 'auto' | ShmAccess;
  /** Open read-write (for writing into the block, e.g. a ring buffer). Default false. */
  writable?: boolean;
  /**
   * Check before every read that the name still exists (one `fstat`, ~1 µs), so a block Python
   * unlinked fails with SHM_GONE instead of silently serving a dead snapshot. Default true.
   */
  checkUnlinked?: boolean;
  /** Where POSIX shm objects live. Default `/dev/shm` (tests may point elsewhere). */
  shmDir?: string;
}

const DEFAULT_SHM_DIR = '/dev/shm';

/**
 * Python reports `SharedMemory.name` without the slash (`psm_2230f139`) but accepts `/psm_…`;
 * glibc collapses any run of leading slashes. Anything else with a slash, NUL, or `.`/`..`
 * would escape /dev/shm, so it is refused.
 */
export function normalizeShmName(name: string): string {
  if (typeof name !== 'string') throw new ShmReaderError(ShmReaderErrorCode.SHM_BAD_NAME, 'block name must be a string');
  const bare = name.replace(/^\/+/, '');
  if (bare === '' || bare === '.' || bare === '..' || bare.includes('/') || bare.includes('\0') || bare.length > 255) {
    throw new ShmReaderError(ShmReaderErrorCode.SHM_BAD_NAME, `not a POSIX shared memory name: ${JSON.stringify(name.slice(0, 80))}`);
  }
  return bare;
}

function assertPlatform(shmDir: string): void {
  if (process.platform === 'win32') {
    throw new ShmReaderError(
      ShmReaderErrorCode.SHM_UNSUPPORTED_PLATFORM,
      'Windows shared memory (named file mappings, wnsm_*) is not supported',
    );
  }
  if (process.platform === 'darwin') {
    throw new ShmReaderError(
      ShmReaderErrorCode.SHM_UNSUPPORTED_PLATFORM,
      'macOS POSIX shared memory is not in the file system (no /dev/shm); it needs shm_open + mmap in a native addon, which is not implemented (docs/shm.md)',
    );
  }
  if (shmDir === DEFAULT_SHM_DIR && !existsSync(shmDir)) {
    throw new ShmReaderError(ShmReaderErrorCode.SHM_UNSUPPORTED_PLATFORM, `${shmDir} does not exist on ${process.platform}`);
  }
}

function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? (error as { code?: string }).code : undefined;
}

/** A Python shared memory block attached by name. Create with `openSharedMemory`. */
export class SharedMemoryBlock implements ShmByteSource {
  private fd: number;
  private mapped: Uint8Array | null;
  private readonly inode: number;

  private constructor(
    /** The name without leading slash, as Python's `SharedMemory.name` reports it. */
    readonly name: string,
    /** The file behind it, e.g. `/dev/shm/psm_2230f139`. */
    readonly path: string,
    /** Size in bytes (Linux: exactly what Python requested). */
    readonly size: number,
    /** Which read path is active for this block. */
    readonly access: ShmAccess,
    readonly writable: boolean,
    /** Why the mmap path is not used when access is 'fs' under 'auto' (null when mapped or fs was asked for). */
    readonly fallbackReason: string | null,
    private readonly checkUnlinked: boolean,
    fd: number,
    mapped: Uint8Array | null,
    inode: number,
  ) {
    this.fd = fd;
    this.mapped = mapped;
    this.inode = inode;
  }

  /** @internal use `openSharedMemory` */
  static open(name: string, options: OpenSharedMemoryOptions = {}): SharedMemoryBlock {
    const shmDir = options.shmDir ?? DEFAULT_SHM_DIR;
    assertPlatform(shmDir);
    const bare = normalizeShmName(name);
    const path = `${shmDir}/${bare}`;
    const writable = options.writable ?? false;
    const wanted = options.access ?? 'auto';
    let fd: number;
    try {
      fd = openSync(path, writable ? 'r+' : 'r');
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'ENOENT') {
        throw new ShmReaderError(ShmReaderErrorCode.SHM_NOT_FOUND, `no shared memory block named ${JSON.stringify(bare)} (${path})`, {
          cause: error,
        });
      }
      if (code === 'EACCES' || code === 'EPERM') {
        throw new ShmReaderError(
          ShmReaderErrorCode.SHM_PERMISSION_DENIED,
          `permission denied for ${path} (Python creates blocks with mode 0600: same user only)`,
          { cause: error },
        );
      }
      throw new ShmReaderError(ShmReaderErrorCode.SHM_NOT_FOUND, `cannot open ${path}: ${String(error)}`, { cause: error });
    }
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile()) throw new ShmReaderError(ShmReaderErrorCode.SHM_NOT_FOUND, `${path} is not a shared memory block`);
      const size = stat.size;
      let mapped: Uint8Array | null = null;
      let fallbackReason: string | null = null;
      if (wanted !== 'fs') {
        const addon = nativeAddon();
        if (!addon) fallbackReason = 'native addon unavailable';
        else if (size === 0) fallbackReason = 'empty block (nothing to map)';
        else {
          try {
            mapped = new Uint8Array(addon.mapFd(fd, size, writable));
          } catch (error) {
            fallbackReason = `mmap failed: ${error instanceof Error ? error.message : String(error)}`;
          }
        }
        if (!mapped && wanted === 'mmap') {
          throw new ShmReaderError(ShmReaderErrorCode.SHM_NATIVE_UNAVAILABLE, `zero-copy access requested but ${fallbackReason}`);
        }
      }
      return new SharedMemoryBlock(
        bare,
        path,
        size,
        mapped ? 'mmap' : 'fs',
        writable,
        fallbackReason,
        options.checkUnlinked ?? true,
        fd,
        mapped,
        Number(stat.ino),
      );
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  get closed(): boolean {
    return this.fd < 0;
  }

  /**
   * True when the name is gone from /dev/shm (Python called `unlink()`, or a resource tracker did).
   * Our open fd (and mapping) stays valid and coherent with remaining writers, but no new process
   * can attach and the creator has most likely shut down.
   */
  isUnlinked(): boolean {
    this.assertOpen();
    return fstatSync(this.fd).nlink === 0;
  }

  /** Throws DISPOSED after close(), SHM_GONE once the block was unlinked. */
  assertReadable(): void {
    this.assertOpen();
    if (this.checkUnlinked && fstatSync(this.fd).nlink === 0) {
      throw new ShmReaderError(
        ShmReaderErrorCode.SHM_GONE,
        `shared memory block ${JSON.stringify(this.name)} was unlinked (its Python owner released it)`,
      );
    }
  }

  /** Copies `length` bytes at `position` into a new Uint8Array. */
  read(position = 0, length = this.size - position): Uint8Array {
    const target = new Uint8Array(length);
    this.readInto(target, position);
    return target;
  }

  /** Fills the caller's `target` with the bytes at `position` (pread / memcpy; no full re-read). */
  readInto(target: Uint8Array, position = 0): Uint8Array {
    this.assertReadable();
    this.readBytes(target, position);
    return target;
  }

  /** Like readInto, without blocking the event loop on the fs path (libuv thread pool). */
  async readIntoAsync(target: Uint8Array, position = 0): Promise<Uint8Array> {
    this.assertReadable();
    checkRange(this.size, position, target.byteLength);
    if (this.mapped) {
      target.set(this.mapped.subarray(position, position + target.byteLength));
      return target;
    }
    let done = 0;
    while (done < target.byteLength) {
      const fd = this.fd;
      const got = await new Promise<number>((resolve, reject) => {
        read(fd, target, done, target.byteLength - done, position + done, (error, bytesRead) =>
          error ? reject(error) : resolve(bytesRead),
        );
      });
      if (got === 0) this.shortRead(position, target.byteLength, done);
      done += got;
    }
    return target;
  }

  /** @internal ShmByteSource: bounds-checked read without the liveness check. */
  readBytes(target: Uint8Array, position: number): void {
    this.assertOpen();
    checkRange(this.size, position, target.byteLength);
    if (this.mapped) {
      target.set(this.mapped.subarray(position, position + target.byteLength));
      return;
    }
    let done = 0;
    while (done < target.byteLength) {
      const got = readSync(this.fd, target, done, target.byteLength - done, position + done);
      if (got === 0) this.shortRead(position, target.byteLength, done);
      done += got;
    }
  }

  private shortRead(position: number, length: number, done: number): never {
    throw new ShmReaderError(
      ShmReaderErrorCode.SHM_GONE,
      `block ${JSON.stringify(this.name)} shrank under us: read ${done} of ${length} bytes at ${position}`,
    );
  }

  /** The live zero-copy view of the whole block (mmap path), else null. */
  liveBytes(): Uint8Array | null {
    this.assertOpen();
    return this.mapped;
  }

  /**
   * The live zero-copy view of the whole block. Throws SHM_NATIVE_UNAVAILABLE on the fs path.
   * Reads through it are not liveness-checked: call `assertReadable()` when it matters.
   */
  bytes(): Uint8Array {
    const mapped = this.liveBytes();
    if (!mapped) throw new ShmReaderError(ShmReaderErrorCode.SHM_NATIVE_UNAVAILABLE, `block is read with fs (${this.fallbackReason ?? 'fs requested'})`);
    return mapped;
  }

  /** Writes into the block (opened with `writable: true`). Python sees it immediately. */
  write(source: Uint8Array, position: number): void {
    this.assertReadable();
    if (!this.writable) throw new ShmReaderError(ShmReaderErrorCode.SHM_READ_ONLY, 'block was opened read-only (pass writable: true)');
    checkRange(this.size, position, source.byteLength);
    if (this.mapped) {
      this.mapped.set(source, position);
      return;
    }
    let done = 0;
    while (done < source.byteLength) done += writeSync(this.fd, source, done, source.byteLength - done, position + done);
  }

  /**
   * Process ids (other than this one) that currently have the block mapped, from /proc/<pid>/maps,
   * matched by inode so a new block reusing the name is not confused with this one. An empty list
   * means every Python writer has closed it or exited. Linux only; sees processes of this user
   * (Python's blocks are 0600 anyway). Costs a scan of /proc: call it occasionally, not per frame.
   */
  attachedProcesses(): number[] {
    this.assertOpen();
    const pids: number[] = [];
    let entries: string[];
    try {
      entries = readdirSync('/proc');
    } catch {
      return pids;
    }
    const inode = String(this.inode);
    for (const entry of entries) {
      if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
      let maps: string;
      try {
        maps = readFileSync(`/proc/${entry}/maps`, 'latin1');
      } catch {
        continue; // exited meanwhile, or not ours to look at
      }
      for (const line of maps.split('\n')) {
        if (!line.includes(this.path)) continue;
        // address perms offset dev inode path
        const fields = line.trim().split(/\s+/);
        if (fields[4] === inode) {
          pids.push(Number(entry));
          break;
        }
      }
    }
    return pids;
  }

  /**
   * Releases our fd. This never unlinks the block (there is no unlink API here at all).
   * A mapping is released when the last view of it is garbage-collected, so views obtained
   * earlier stay valid; further reads through this object throw DISPOSED.
   */
  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
    this.mapped = null;
  }

  private assertOpen(): void {
    if (this.fd < 0) throw new ShmReaderError(ShmReaderErrorCode.DISPOSED, `block ${JSON.stringify(this.name)} is closed`);
  }
}

/**
 * Attaches to a Python `SharedMemory` block by name (`psm_…`, with or without the leading slash).
 * Throws SHM_NOT_FOUND for an unknown name, SHM_UNSUPPORTED_PLATFORM off Linux.
 */
export function openSharedMemory(name: string, options?: OpenSharedMemoryOptions): SharedMemoryBlock {
  return SharedMemoryBlock.open(name, options);
}
