"""Publish arrays and bytes from Python into a shared-memory ring that Node (``@webmon/shm-reader``) reads.

Standard library only (CPython 3.8+); numpy arrays are accepted when numpy is installed, but numpy is
never imported by this module.  One writer process, any number of readers.  The layout is documented
byte by byte in ``docs/ring.md`` of the npm package; the constants below are the source of truth.

Usage::

    from webmon_ring import RingWriter

    with RingWriter(max_payload=4 << 20, slots=8) as ring:
        print(ring.name)                       # hand this name to the Node reader
        ring.publish(frame, {"layer": "img"})  # numpy array, bytes, bytearray or memoryview

Lifecycle (see WIRE §4.2 and docs/ring.md): the writer *creates* the block, so Python's resource tracker
registers it in the writer's process tree.  ``close()`` (also called by ``with``, by ``atexit`` on a normal
interpreter exit, and on garbage collection) marks the ring closed, unlinks the block and thereby
unregisters it.  If the writer is killed, its resource tracker unlinks the block once the whole process
tree is gone, so nothing leaks in ``/dev/shm``; readers that already have it open keep reading the last
records and see the writer as dead.  Readers are Node processes, which have no tracker and never unlink.

Memory-ordering assumption: each 8-byte header field is written with one item assignment on a
``memoryview.cast('Q')``; CPython implements that as ``memcpy(ptr, &value, 8)`` into an 8-byte aligned
address, which compilers emit as a single aligned 8-byte store on x86-64 and arm64, so readers never see
half a counter.  Ordering between the seqlock stores and the payload copy relies on the hardware keeping
stores in program order (x86-64 TSO; glibc ends its non-temporal large ``memcpy`` with ``sfence``).
On weakly ordered CPUs (arm64) pass ``checksum=True``: readers then verify a CRC-32 of every record.
"""

import atexit
import json
import os
import secrets
import socket
import struct
import sys
import threading
import time
import weakref
import zlib
from multiprocessing import shared_memory

__all__ = ["RingWriter", "RingClosedError", "MAGIC", "VERSION"]

MAGIC = 0x31474E49524E4D57  # b"WMNRING1" read as a little-endian u64
VERSION = 1
HEADER_SIZE = 4096  # one page: slots start page-aligned
SLOT_HEADER_SIZE = 256
ALIGN = 64  # metadata and payload start 64-byte aligned, so every typed-array view is aligned
MAX_DIMS = 8
DTYPE_FIELD = 16

STATE_INITIALIZING = 0
STATE_OPEN = 1
STATE_CLOSED = 2

FLAG_CRC32 = 1

# Header fields, as u64 indices (byte offset = index * 8).
H_MAGIC = 0
H_VERSION = 1  # low u32: version, high u32: header size
H_SLOT_COUNT = 2
H_SLOT_SIZE = 3
H_GENERATION = 4
H_CREATED_NS = 5
H_WRITER_PID = 6
H_STATE = 7
H_WRITE_SEQ = 8
H_HEARTBEAT_NS = 9
H_HEARTBEAT_INTERVAL_MS = 10
H_SLOT_CAPACITY = 11
H_NOTIFY = 12  # 0: readers poll; 1: abstract UNIX stream socket "\0webmon-ring/<name>/<generation>"

NOTIFY_NONE = 0
NOTIFY_ABSTRACT_UNIX = 1
MAX_NOTIFY_READERS = 64

# Slot header fields, as u64 indices relative to the slot start.
S_LOCK = 0  # seqlock: 2*seq - 1 while writing record `seq`, 2*seq once it is complete
S_SEQ = 1
S_TIME_NS = 2
S_MONO_NS = 3
S_PAYLOAD_LEN = 4
S_META_LEN = 5
S_PAYLOAD_OFF = 6
S_FLAGS_CRC = 7  # low u32: flags, high u32: CRC-32 of metadata + payload (when FLAG_CRC32)
S_NDIM = 8
S_DTYPE = 9  # 16 ASCII bytes, NUL padded (two u64 fields)
S_SHAPE = 11  # MAX_DIMS u64 fields (up to byte 152)

_STRUCT_TO_DTYPE = {
    "b": "|i1", "B": "|u1", "c": "|u1", "?": "|b1",
    "h": "<i2", "H": "<u2", "i": "<i4", "I": "<u4",
    "l": "<i8" if struct.calcsize("l") == 8 else "<i4",
    "L": "<u8" if struct.calcsize("L") == 8 else "<u4",
    "q": "<i8", "Q": "<u8", "n": "<i8", "N": "<u8",
    "e": "<f2", "f": "<f4", "d": "<f8",
}


class RingClosedError(RuntimeError):
    """Raised by ``publish`` after ``close``."""


def _align(n, to=ALIGN):
    return (n + to - 1) // to * to


def _close_at_exit(ref):
    writer = ref()
    if writer is not None:
        writer.close()


def _as_payload(data):
    """Return (byte memoryview, dtype str, shape tuple) for numpy arrays and buffer objects."""
    if hasattr(data, "__array_interface__") and hasattr(data, "dtype") and hasattr(data, "reshape"):
        import numpy as np  # only reached when the caller already has numpy

        arr = np.asarray(data)
        if arr.dtype.hasobject:
            raise TypeError("object arrays cannot be shared (they hold pointers)")
        if arr.dtype.byteorder == ">" or (arr.dtype.byteorder == "=" and sys.byteorder == "big"):
            arr = arr.astype(arr.dtype.newbyteorder("<"))  # readers get native little-endian values
        shape = tuple(int(n) for n in arr.shape)  # before ascontiguousarray, which makes 0-d arrays 1-d
        arr = np.ascontiguousarray(arr)
        flat = arr.reshape(-1).view(np.uint8) if arr.size else np.empty(0, np.uint8)
        return memoryview(flat), arr.dtype.str, shape
    view = memoryview(data)
    if not view.c_contiguous:
        view = memoryview(view.tobytes())  # one copy; cast() needs C order
    fmt = view.format.lstrip("@=<")
    if fmt.startswith((">", "!")):
        raise TypeError("big-endian memoryview formats are not supported; convert to native order")
    dtype = _STRUCT_TO_DTYPE.get(fmt)
    if dtype is None:
        dtype = "|V%d" % view.itemsize  # opaque records: the reader gets raw bytes
    shape = tuple(view.shape) if view.ndim else ()
    return view.cast("B") if view.ndim != 1 or view.format != "B" else view, dtype, shape


class RingWriter:
    """The single writer of a shared-memory ring.

    :param name: block name (no leading slash); default ``wmr_`` + 12 random hex digits.
    :param slots: number of slots (records kept); >= 2.
    :param max_payload: largest payload in bytes (array data).
    :param max_meta: largest UTF-8 JSON metadata in bytes.
    :param heartbeat: seconds between heartbeat updates by a daemon thread; 0 disables the thread
        (the heartbeat then only moves on ``publish``/``heartbeat()``, and readers rely on the pid).
    :param checksum: store a CRC-32 of metadata + payload in every record (readers verify it).
    :param replace: unlink an existing block of the same name first (a restarted writer).
    :param track: keep the block registered with Python's resource tracker (default), so it is
        unlinked even if this process is killed.  ``False`` unregisters it: it then outlives a killed
        writer until someone unlinks it.
    :param notify: also listen on an abstract UNIX socket (Linux) and send each connected reader one
        byte per record, so readers sleep instead of polling.  Falls back to polling silently when the
        socket cannot be created.  Costs one non-blocking ``accept`` + one ``send`` per reader per record.
    """

    def __init__(self, name=None, *, slots=8, max_payload=1 << 20, max_meta=4096, heartbeat=1.0,
                 checksum=False, replace=False, track=True, notify=True):
        if slots < 2:
            raise ValueError("slots must be >= 2")
        if max_payload < 0 or max_meta < 0:
            raise ValueError("sizes must be >= 0")
        self.slot_capacity = _align(max_meta) + _align(max_payload)
        self.slot_size = SLOT_HEADER_SIZE + self.slot_capacity
        self.slot_count = int(slots)
        self.max_meta = int(max_meta)
        self.checksum = bool(checksum)
        self._lock = threading.Lock()
        self._closed = False
        size = HEADER_SIZE + self.slot_count * self.slot_size
        if name is None:
            name = "wmr_" + secrets.token_hex(6)
        if replace:
            try:
                old = shared_memory.SharedMemory(name=name)
            except FileNotFoundError:
                pass
            else:
                old.close()
                try:
                    old.unlink()  # also unregisters the attach that the constructor registered
                except FileNotFoundError:
                    # A dead writer's resource tracker unlinked it in the meantime; drop our registration.
                    from multiprocessing import resource_tracker
                    resource_tracker.unregister(old._name, "shared_memory")
        self._shm = shared_memory.SharedMemory(name=name, create=True, size=size)
        self.name = self._shm.name.lstrip("/")
        if not track:
            from multiprocessing import resource_tracker
            resource_tracker.unregister(self._shm._name, "shared_memory")
        self._tracked = bool(track)
        buf = self._shm.buf
        self._bytes = buf[:size]
        self._u64 = self._bytes.cast("Q")
        self.generation = secrets.randbits(63) | 1  # never 0: 0 means "not initialized"
        self.seq = 0
        u = self._u64
        u[H_VERSION] = VERSION | (HEADER_SIZE << 32)
        u[H_SLOT_COUNT] = self.slot_count
        u[H_SLOT_SIZE] = self.slot_size
        u[H_GENERATION] = self.generation
        u[H_CREATED_NS] = time.time_ns()
        u[H_WRITER_PID] = os.getpid()
        u[H_HEARTBEAT_NS] = time.monotonic_ns()
        u[H_HEARTBEAT_INTERVAL_MS] = int(heartbeat * 1000) if heartbeat else 0
        u[H_SLOT_CAPACITY] = self.slot_capacity
        self._listeners = []
        self._readers = []
        if notify and sys.platform.startswith("linux"):
            self._listeners = self._listen()
        u[H_NOTIFY] = NOTIFY_ABSTRACT_UNIX if self._listeners else NOTIFY_NONE
        u[H_WRITE_SEQ] = 0
        u[H_STATE] = STATE_OPEN
        u[H_MAGIC] = MAGIC  # last: a reader that sees the magic sees a complete header
        self._stop = threading.Event()
        self._thread = None
        if heartbeat:
            self._thread = threading.Thread(target=self._beat, args=(float(heartbeat),),
                                            name="webmon-ring-heartbeat", daemon=True)
            self._thread.start()
        atexit.register(_close_at_exit, weakref.ref(self))

    # -- writing --------------------------------------------------------------------------------
    def publish(self, data, meta=None, *, dtype=None, shape=None):
        """Write one record and return its sequence number (1, 2, ...).

        ``data``: a numpy array (any shape, made C-contiguous and little-endian), or any buffer
        (``bytes``, ``bytearray``, ``memoryview``, ``array.array``).  ``meta``: a JSON-serialisable
        value or ``None``.  ``dtype``/``shape`` override what is recorded for raw buffers
        (e.g. ``dtype='<f4', shape=(512, 512)`` for bytes you packed yourself).
        """
        payload, rec_dtype, rec_shape = _as_payload(data)
        if dtype is not None:
            rec_dtype = str(dtype)
        if shape is not None:
            rec_shape = tuple(int(n) for n in shape)
        dtype_bytes = rec_dtype.encode("ascii")
        if len(dtype_bytes) > DTYPE_FIELD:
            raise ValueError("dtype string too long: %r" % rec_dtype)
        if len(rec_shape) > MAX_DIMS:
            raise ValueError("at most %d dimensions" % MAX_DIMS)
        meta_bytes = b"" if meta is None else json.dumps(meta, separators=(",", ":")).encode("utf-8")
        if len(meta_bytes) > self.max_meta:
            raise ValueError("metadata is %d bytes, max_meta is %d" % (len(meta_bytes), self.max_meta))
        n = payload.nbytes
        payload_off = SLOT_HEADER_SIZE + _align(len(meta_bytes))
        if payload_off + n > self.slot_size:
            raise ValueError("payload is %d bytes, the slot holds %d" % (n, self.slot_size - payload_off))
        crc = 0
        if self.checksum:
            crc = zlib.crc32(payload, zlib.crc32(meta_bytes))
        with self._lock:
            if self._closed:
                raise RingClosedError("ring %s is closed" % self.name)
            seq = self.seq + 1
            base = HEADER_SIZE + ((seq - 1) % self.slot_count) * self.slot_size
            b = base // 8
            u = self._u64
            u[b + S_LOCK] = 2 * seq - 1  # odd: readers that see this (or see it change) drop the slot
            u[b + S_SEQ] = seq
            u[b + S_TIME_NS] = time.time_ns()
            u[b + S_MONO_NS] = time.monotonic_ns()
            u[b + S_PAYLOAD_LEN] = n
            u[b + S_META_LEN] = len(meta_bytes)
            u[b + S_PAYLOAD_OFF] = payload_off
            u[b + S_FLAGS_CRC] = (FLAG_CRC32 if self.checksum else 0) | (crc << 32)
            u[b + S_NDIM] = len(rec_shape)
            dt = dtype_bytes.ljust(DTYPE_FIELD, b"\0")
            self._bytes[base + S_DTYPE * 8:base + S_DTYPE * 8 + DTYPE_FIELD] = dt
            for i in range(MAX_DIMS):
                u[b + S_SHAPE + i] = rec_shape[i] if i < len(rec_shape) else 0
            if meta_bytes:
                self._bytes[base + SLOT_HEADER_SIZE:base + SLOT_HEADER_SIZE + len(meta_bytes)] = meta_bytes
            if n:
                self._bytes[base + payload_off:base + payload_off + n] = payload
            u[b + S_LOCK] = 2 * seq  # even: complete
            u[H_WRITE_SEQ] = seq  # readers poll this
            u[H_HEARTBEAT_NS] = time.monotonic_ns()
            self.seq = seq
            if self._listeners:
                self._notify()
        return seq

    def _listen(self):
        # An abstract name is its exact bytes *including the length*: Node 20 (libuv < 1.46) always
        # connects with the whole 108-byte sun_path (the name NUL-padded), newer libuv with the exact
        # length.  Listen on both spellings so either kind of reader finds us.
        address = "\0webmon-ring/%s/%d" % (self.name, self.generation)
        listeners = []
        for spelling in {address, address.ljust(108, "\0")}:
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                listener.bind(spelling)
                listener.listen(16)
                listener.setblocking(False)
            except OSError:
                listener.close()  # name taken or sockets unavailable: readers poll
                continue
            listeners.append(listener)
        return listeners

    def _notify(self):
        """Accept waiting readers, then send each one wake byte; never blocks (called under the lock)."""
        for listener in self._listeners:
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:  # BlockingIOError: nobody waiting
                    break
                if len(self._readers) >= MAX_NOTIFY_READERS:
                    conn.close()  # a flood of connections must not cost the writer fds; those readers poll
                    continue
                conn.setblocking(False)
                self._readers.append(conn)
        alive = []
        for conn in self._readers:
            try:
                conn.send(b"\1")
            except (BlockingIOError, InterruptedError):
                pass  # its buffer is full of unread wake bytes: it is awake anyway
            except OSError:
                conn.close()  # reader went away
                continue
            alive.append(conn)
        self._readers = alive

    def heartbeat(self):
        """Mark the writer alive now (the daemon thread does this every ``heartbeat`` seconds)."""
        with self._lock:
            if not self._closed:
                self._u64[H_HEARTBEAT_NS] = time.monotonic_ns()

    def _beat(self, interval):
        while not self._stop.wait(interval):
            self.heartbeat()

    # -- lifecycle ------------------------------------------------------------------------------
    def close(self, unlink=True):
        """Mark the ring closed (readers end cleanly) and, by default, unlink the block.  Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._u64[H_STATE] = STATE_CLOSED
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        for conn in self._readers:
            conn.close()  # readers see end-of-stream, wake, and find the ring closed
        self._readers = []
        for listener in self._listeners:
            listener.close()
        self._listeners = []
        self._u64.release()
        self._bytes.release()
        self._shm.close()
        if unlink:
            if self._tracked:
                self._shm.unlink()  # unlink + UNREGISTER from the resource tracker
            else:
                # unlink() would also send UNREGISTER for a name the tracker no longer holds (it
                # complains on stderr at exit); unlink the name directly instead.
                try:
                    shared_memory._posixshmem.shm_unlink(self._shm._name)
                except FileNotFoundError:
                    pass

    @property
    def closed(self):
        return self._closed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self):
        return "RingWriter(name=%r, slots=%d, slot_size=%d, seq=%d%s)" % (
            self.name, self.slot_count, self.slot_size, self.seq, ", closed" if self._closed else "")


def _main(argv):
    """Tiny demo/self-test: ``python webmon_ring.py [count] [hz]`` publishes counters and prints the name."""
    count = int(argv[1]) if len(argv) > 1 else 100
    hz = float(argv[2]) if len(argv) > 2 else 60.0
    with RingWriter(max_payload=1024, slots=16) as ring:
        print(ring.name, flush=True)
        for i in range(count):
            ring.publish(struct.pack("<%dd" % 4, i, i * 0.5, i * 0.25, -i), {"i": i}, dtype="<f8", shape=(4,))
            time.sleep(1.0 / hz)


if __name__ == "__main__":
    _main(sys.argv)
