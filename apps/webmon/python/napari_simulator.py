#!/usr/bin/env python3
"""A stand-in for napari's experimental monitor, standard library only (numpy optional).

Two napari generations, chosen with --napari:

* ``--napari 0.4`` (the default) mimics napari 0.4.3-0.4.19 with NAPARI_OCTREE=1: an octree image
  layer's tile state in every poll, load_chunk messages, and one remote command, show_grid;
* ``--napari 0.5`` mimics napari 0.5-0.9 (octree and chunk loader removed): every poll is
  ``{'layers': {}}``, the only message is frame_time, and RemoteCommands has no methods, so every
  command a client sends is logged as ``RemoteCommands.<name> does not exist.`` and not executed.

In both modes it does what napari does when NAPARI_MON is set:

* starts a SharedMemoryManager on ('127.0.0.1', 0) with authkey b"napari" and the five shared
  objects napari registers (napari_data, napari_messages, napari_shutdown, client_data,
  client_messages);
* launches each client command with NAPARI_MON_CLIENT = base64(JSON {"server_port": port}) in its
  environment (the clients come from `-- COMMAND...` or, like napari, from the NAPARI_MON config file;
  with neither, or with --no-clients, it launches nothing and just serves);
* every frame (60 Hz) updates napari_data["poll"] (0.4: an octree image layer's tile state; 0.5: no
  layers), and puts {"frame_time": ...} (0.4: and bursts of {"load_chunk": ...}) on napari_messages;
* runs the commands clients put on client_messages the way napari does,
  ``getattr(RemoteCommands, name)(args)`` catching AttributeError: 0.4 executes {"show_grid": bool}
  (stdout: ``napari simulator: show_grid True``); any other name, and in 0.5 every name, is not
  executed and logged on stderr: ``napari simulator: RemoteCommands.<name> does not exist.``;
* streams a live image (1024 x 1024 float32 moving Gaussian blobs over rotating stripes with numpy,
  256 x 256 scrolling stripes without) through a shared-memory ring (``webmon_ring.RingWriter`` from
  ``@webmon/shm-reader``'s ``python/`` folder, found the way the ``webmon`` module beside this script finds it) and names the ring in napari_data["webmon_rings"], the
  way a napari plugin would (``monitor.add_data({"webmon_rings": {"napari.image": ring.name}})``);
  this is a plugin's doing, so it happens in both modes;
* with --plugin-after S, from S seconds on, acts like a plugin calling monitor.add_data /
  monitor.send_message at 10 Hz: napari_data["my_plugin"] = {"count": n, "label": "hello",
  "time": time.time(), "stats": {"mean": float}} and {"my_event": {"count": n, "time": time.time()}} on napari_messages
  (neither exists before; stderr says ``napari simulator: plugin data started``);
* on shutdown sets napari_shutdown and stops the manager.

The 0.4 layer is panned and zoomed along a smooth path that crosses every octree level. `seen` and
`corners` are numpy arrays (int64 N x 2, float64 2 x 2) when numpy is importable, as in napari, and
plain lists otherwise.

Usage:
    napari_simulator.py [--napari {0.4,0.5}] [--seconds N] [--hz 60] [--image-hz 30] [--image-size 1024]
                        [--plugin-after SECONDS] [--no-numpy] [--watch-stdin] [--exit-with-client]
                        [--no-clients] [--quiet] [-- CLIENT COMMAND...]

stdout always has one machine-readable line ``napari simulator: manager port N`` (even with --quiet),
printed once the first frame is in napari_data and before any client starts. Without --seconds it runs until SIGTERM/SIGINT (or, with --watch-stdin,
until stdin closes).

Exit status: with --exit-with-client, the client's status when the client ended the run; else 0;
2 for bad arguments.
"""
import argparse
import base64
import json
import math
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time

if sys.version_info < (3, 8):  # pragma: no cover - the app checks this before starting us
    sys.stderr.write('napari simulator: needs Python >= 3.8, this is %s\n' % sys.version.split()[0])
    sys.exit(3)

from multiprocessing.managers import BaseManager, SharedMemoryManager

# The image is one small matrix product per frame (a rank-9 outer product, about a millisecond on one
# core). A multi-threaded BLAS (OpenBLAS, numpy's wheels) keeps its other threads spinning between calls:
# measured on a 2-core machine, the 60 Hz stream took 113 % of a core with OpenBLAS's default threads and
# 13 % with one, and that core was taken from webmon and the browser the simulator is there to exercise.
# Only read when numpy is first imported, so set here, before any import of it; a user's own setting wins.
for _blas_threads in ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
    os.environ.setdefault(_blas_threads, '1')

AUTHKEY = b'napari'
NAPARI_VERSIONS = ('0.4', '0.5')
MIMICS = {'0.4': 'napari 0.4.3-0.4.19 (octree)', '0.5': 'napari 0.5-0.9 (no octree, no commands)'}
NAMES = ('napari_data', 'napari_messages', 'napari_shutdown', 'client_data', 'client_messages')

# The shared objects live in the manager's server process. Module-level functions are picklable by
# reference, so this also works where the start method is spawn or forkserver.
_napari_data = {}
_napari_messages = queue.Queue()
_napari_shutdown = threading.Event()
_client_data = {}
_client_messages = queue.Queue()


def _get_napari_data():
    return _napari_data


def _get_napari_messages():
    return _napari_messages


def _get_napari_shutdown():
    return _napari_shutdown


def _get_client_data():
    return _client_data


def _get_client_messages():
    return _client_messages


# CPython 3.8's SharedMemoryServer cannot create registered objects (a NameError fixed in 3.9, which
# is why napari's monitor needed 3.9); a plain BaseManager speaks the same protocol there.
_ManagerBase = SharedMemoryManager if sys.version_info >= (3, 9) else BaseManager


class NapariManager(_ManagerBase):
    """The manager napari's MonitorApi starts, as a subclass so the registry stays local."""


for _name, _fn in zip(NAMES, (_get_napari_data, _get_napari_messages, _get_napari_shutdown,
                               _get_client_data, _get_client_messages)):
    NapariManager.register(_name, callable=_fn)


QUIET = [False]


def log(text, always=False):
    if QUIET[0] and not always:
        return
    sys.stdout.write('napari simulator: %s\n' % text)
    sys.stdout.flush()


def log_error(text):
    """What napari's LOGGER.error would show: on stderr, --quiet or not."""
    sys.stderr.write('napari simulator: %s\n' % text)
    sys.stderr.flush()


# ------------------------------------------------------------------------------------------------
# A plugin's own data (monitor.add_data / monitor.send_message), from --plugin-after seconds on
# ------------------------------------------------------------------------------------------------

PLUGIN_KEY = 'my_plugin'
PLUGIN_EVENT = 'my_event'
PLUGIN_HZ = 10.0


class Plugin(object):
    """Adds napari_data['my_plugin'] and sends {'my_event': ...} at PLUGIN_HZ once `after` seconds
    have passed; before that neither the key nor the message kind exists."""

    def __init__(self, after, started):
        self.start_at = None if after is None else started + after
        self.count = 0
        self.next_at = None

    def tick(self, now, napari_data, napari_messages):
        if self.start_at is None or now < self.start_at:
            return
        if self.next_at is not None and now < self.next_at:
            return
        first = self.next_at is None
        self.next_at = (now if first or now - self.next_at > 0.5 else self.next_at) + 1.0 / PLUGIN_HZ
        self.count += 1
        n = self.count
        # `time` (time.time() of the update) lets a page measure how long a value took to reach it.
        napari_data.update({PLUGIN_KEY: {'count': n, 'label': 'hello', 'time': time.time(), 'stats': {'mean': 0.5 + 0.25 * math.sin(0.7 * n)}}})
        napari_messages.put({PLUGIN_EVENT: {'count': n, 'time': time.time()}})
        if first:
            log_error('plugin data started')


# ------------------------------------------------------------------------------------------------
# The simulated octree image layer
# ------------------------------------------------------------------------------------------------

BASE_SHAPE = (50000, 70000)  # level 0 (rows, cols); not a power of two, so edge tiles are partial
TILE_SIZE = 256
NUM_LEVELS = 10  # levels 0..9; level 9 (98 x 137) is a single tile
CHANNELS = 4  # RGBA uint8 chunks
CANVAS = (800.0, 1200.0)  # screen (rows, cols) the simulated camera sees
CYCLE_SECONDS = 24.0  # one zoom-out / zoom-in cycle across all levels
MAX_LOADS_PER_FRAME = 48


class OctreeLayer(object):
    """Camera path, level choice and tile visibility the way napari's octree code computes them."""

    def __init__(self, rng):
        self.rng = rng
        self.show_grid = True
        self.loaded = {}  # (level, row, col) -> last frame seen; bounded below
        self.pending = []  # byte sizes of chunks "loading", completed in bursts

    def camera(self, t):
        # Zoom sweeps log2(scale) between -9.5 (whole image) and +0.7 (beyond full resolution) while the
        # centre wanders on a Lissajous path: every level is crossed twice per cycle.
        phase = 2.0 * math.pi * t / CYCLE_SECONDS
        log_scale = -4.4 + 5.1 * math.cos(phase)
        scale = 2.0 ** log_scale  # screen pixels per level-0 pixel
        centre_y = BASE_SHAPE[0] * (0.5 + 0.30 * math.sin(0.7 * phase + 0.4))
        centre_x = BASE_SHAPE[1] * (0.5 + 0.30 * math.sin(1.3 * phase))
        return scale, (centre_y, centre_x)

    def frame(self, t, frame_number):
        scale, (cy, cx) = self.camera(t)
        # napari picks the level whose pixels are closest to one screen pixel.
        level = int(min(NUM_LEVELS - 1, max(0, math.floor(-math.log2(scale) + 0.5))))
        half_h = CANVAS[0] / scale / 2.0
        half_w = CANVAS[1] / scale / 2.0
        y0, y1 = max(0.0, cy - half_h), min(float(BASE_SHAPE[0]), cy + half_h)
        x0, x1 = max(0.0, cx - half_w), min(float(BASE_SHAPE[1]), cx + half_w)
        # Each level halves the previous one, rounding up (as napari's octree does).
        level_shape = [int(math.ceil(size / float(2 ** level))) for size in BASE_SHAPE]
        tiles = [int(math.ceil(size / float(TILE_SIZE))) for size in level_shape]
        tile_span = TILE_SIZE << level  # one tile in level-0 pixels
        rows = range(int(y0 // tile_span), min(tiles[0], int(math.ceil(y1 / tile_span))))
        cols = range(int(x0 // tile_span), min(tiles[1], int(math.ceil(x1 / tile_span))))
        seen = [(r, c) for r in rows for c in cols]
        for r, c in seen:
            key = (level, r, c)
            if key not in self.loaded:
                # Edge tiles are cut by the image border, so their chunks are smaller.
                height = min(TILE_SIZE, level_shape[0] - r * TILE_SIZE)
                width = min(TILE_SIZE, level_shape[1] - c * TILE_SIZE)
                self.pending.append(height * width * CHANNELS)
            self.loaded[key] = frame_number
        if len(self.loaded) > 4096:  # forget tiles not seen for a while (a bounded chunk cache)
            cutoff = frame_number - 600
            self.loaded = dict((k, v) for k, v in self.loaded.items() if v >= cutoff)
        tile_config = {
            'base_shape': list(BASE_SHAPE),
            'image_shape': level_shape,
            'shape_in_tiles': tiles,
            'tile_size': TILE_SIZE,
            'level_index': level,
        }
        return tile_config, seen, [[y0, x0], [y1, x1]]

    def take_loads(self):
        """Loads finish in bursts: none on most frames, then up to MAX_LOADS_PER_FRAME at once."""
        if not self.pending or self.rng.random() < 0.6:
            return []
        burst, self.pending = self.pending[:MAX_LOADS_PER_FRAME], self.pending[MAX_LOADS_PER_FRAME:]
        return burst


# ------------------------------------------------------------------------------------------------
# The live image: bulk arrays through a shared-memory ring
# ------------------------------------------------------------------------------------------------

IMAGE_TOPIC = 'napari.image'
RINGS_KEY = 'webmon_rings'


def import_ring_writer():
    """webmon_ring ships in @webmon/shm-reader's python/ folder; the webmon module beside this script
    finds it (on sys.path, where webmon puts it, else in node_modules above), as for any program."""
    try:
        from webmon._ring import ring_writer_class
        return ring_writer_class()
    except ImportError:
        return None


class ImageStream(object):
    """Publishes frames into a ring from its own thread, at a fixed rate (frames are skipped, not
    queued, when the machine is too slow).

    With numpy a frame is a sum of rank-one terms, so one small matrix product (BLAS) draws it:
    Gaussian blobs exp(-(y-cy)^2/2s^2) * exp(-(x-cx)^2/2s^2) are separable, and rotating stripes
    cos(ky*y + kx*x) = cos(ky*y)cos(kx*x) - sin(ky*y)sin(kx*x) are two more terms. A 1024 x 1024
    float32 frame takes about a millisecond. Without numpy the frame is a window scrolled across a
    precomputed pattern (one bytes join per frame), at 256 x 256.
    """

    BLOBS = 6

    def __init__(self, writer_class, np, size, hz):
        self.np = np
        self.hz = hz
        if np is not None:
            self.size = size
            self.coords = np.arange(size, dtype=np.float32) / np.float32(size)
        else:
            self.size = min(size, 256)
            self.pattern = self._plain_pattern(self.size)
        nbytes = self.size * self.size * 4
        self.ring = writer_class(slots=4, max_payload=nbytes)
        self.name = self.ring.name
        self.frames = 0
        self.out = None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name='image-stream', daemon=True)

    def describe(self):
        return '%dx%d float32 at %g Hz through ring %s%s' % (
            self.size, self.size, self.hz, self.name, '' if self.np is not None else ' (no numpy: scrolling stripes)')

    def start(self):
        self.thread.start()

    def close(self):
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join(5.0)
        self.ring.close()

    def _run(self):
        interval = 1.0 / self.hz
        started = time.monotonic()
        n = 0
        while not self.stop.is_set():
            n += 1
            delay = started + n * interval - time.monotonic()
            if delay > 0:
                if self.stop.wait(delay):
                    break
            elif delay < -0.25:  # fell far behind: skip ahead rather than burst
                started = time.monotonic() - n * interval
            t = time.monotonic()
            try:
                frame = self._numpy_frame(t) if self.np is not None else self._plain_frame(t)
                meta = {'frame': n, 'contrast_limits': [0.0, 1.2], 'colormap': 'viridis', 'name': 'blobs'}
                if self.np is None:
                    self.ring.publish(frame, meta, dtype='<f4', shape=(self.size, self.size))
                else:
                    self.ring.publish(frame, meta)
                self.frames += 1
            except Exception as error:  # the ring was closed under us at shutdown
                if not self.stop.is_set():
                    log('image stream stopped: %s' % error, always=True)
                return

    def _numpy_frame(self, t):
        np = self.np
        c = self.coords
        k = np.arange(self.BLOBS, dtype=np.float32)
        cy = 0.5 + 0.32 * np.sin(0.45 * t * (1.0 + 0.15 * k) + 1.7 * k)
        cx = 0.5 + 0.32 * np.cos(0.35 * t * (1.0 + 0.2 * k) + 2.3 * k)
        sigma = 0.05 + 0.025 * (1.0 + np.sin(0.8 * t + k))
        amplitude = 0.7 + 0.3 * np.cos(0.6 * t + 0.9 * k)
        rows = np.exp(-(c[None, :] - cy[:, None]) ** 2 / (2.0 * sigma[:, None] ** 2))
        cols = np.exp(-(c[None, :] - cx[:, None]) ** 2 / (2.0 * sigma[:, None] ** 2)) * amplitude[:, None]
        angle = 0.25 * t
        freq = 2.0 * math.pi * 6.0
        ky, kx = freq * math.sin(angle), freq * math.cos(angle)
        stripes_rows = np.stack([np.cos(ky * c), -np.sin(ky * c)]) * 0.12
        stripes_cols = np.stack([np.cos(kx * c), np.sin(kx * c)])
        # A constant background is one more rank-one term: ones x 0.15.
        ones = np.ones((1, self.size), dtype=np.float32)
        left = np.concatenate([rows, stripes_rows, ones]).astype(np.float32)
        right = np.concatenate([cols, stripes_cols, ones * 0.15]).astype(np.float32)
        # Into one reused buffer (the ring copies it): no 4 MiB allocation per frame.
        if self.out is None:
            self.out = np.empty((self.size, self.size), dtype=np.float32)
        return np.dot(np.ascontiguousarray(left.T), right, out=self.out)

    @staticmethod
    def _plain_pattern(size):
        from array import array
        period = size
        values = array('f', [0.0]) * (2 * size * 2 * size)
        for y in range(2 * size):
            for x in range(2 * size):
                u = 2.0 * math.pi * x / period
                v = 2.0 * math.pi * y / period
                values[y * 2 * size + x] = 0.55 + 0.3 * math.sin(3 * u + 2 * v) + 0.2 * math.cos(5 * v - u)
        return memoryview(values.tobytes())

    def _plain_frame(self, t):
        size = self.size
        row_bytes = 2 * size * 4
        dx = int(t * 40.0) % size
        dy = int(t * 25.0) % size
        pattern = self.pattern
        return b''.join(pattern[(r + dy) * row_bytes + dx * 4:(r + dy) * row_bytes + (dx + size) * 4] for r in range(size))


# ------------------------------------------------------------------------------------------------
# napari's monitor service
# ------------------------------------------------------------------------------------------------


def base64_encoded_json(data):
    return base64.b64encode(json.dumps(data).encode('ascii')).decode('ascii')


def client_commands(args):
    if args.no_clients:
        return []
    if args.client:
        return [args.client]
    config_path = os.environ.get('NAPARI_MON')
    if config_path in (None, '', '0'):
        return []
    with open(os.path.expanduser(config_path)) as config_file:
        config = json.load(config_file)
    clients = config.get('clients', [])
    if not isinstance(clients, list) or not all(isinstance(c, list) and c for c in clients):
        raise SystemExit('napari simulator: "clients" in %s must be a list of argument lists' % config_path)
    return clients


def start_clients(commands, server_port, stdin):
    env = os.environ.copy()
    env['NAPARI_MON_CLIENT'] = base64_encoded_json({'server_port': server_port})
    processes = []
    for command in commands:
        log('starting client %s' % ' '.join(command))
        processes.append(subprocess.Popen(command, env=env, stdin=stdin))
    return processes


def parse_args(argv):
    client = []
    if '--' in argv:
        at = argv.index('--')
        argv, client = argv[:at], argv[at + 1:]
    parser = argparse.ArgumentParser(
        prog='napari_simulator.py',
        description="Simulates napari's experimental monitor: napari 0.4 (an octree layer panned and zoomed at 60 Hz) or napari 0.5-0.9 (empty polls, no commands).")
    parser.add_argument('--napari', choices=NAPARI_VERSIONS, default='0.4',
                        help='which napari to mimic: 0.4 (0.4.3-0.4.19, octree layer, load_chunk, show_grid; the '
                             'default) or 0.5 (0.5-0.9: empty polls, frame_time only, no commands)')
    parser.add_argument('--plugin-after', type=float, default=None, metavar='SECONDS',
                        help="from SECONDS on, act like a plugin: napari_data['my_plugin'] and {'my_event': ...} "
                             'messages at 10 Hz (default: never)')
    parser.add_argument('--no-clients', action='store_true',
                        help='launch no client, even when NAPARI_MON names a config file (serve only)')
    parser.add_argument('--seconds', type=float, default=0.0, help='stop after this many seconds (0: run until stopped)')
    parser.add_argument('--hz', type=float, default=60.0, help='frames per second (default 60)')
    parser.add_argument('--port', type=int, default=0, help='manager port (default 0: the OS picks, as napari does)')
    parser.add_argument('--no-numpy', action='store_true', help='send plain lists even when numpy is importable')
    parser.add_argument('--watch-stdin', action='store_true', help='stop when stdin closes (the parent went away)')
    parser.add_argument('--exit-with-client', action='store_true',
                        help='stop when a client exits, and on stopping wait for (or end) the clients; '
                             'exit with the client\'s status (napari itself leaves clients alone)')
    parser.add_argument('--stamp', action='store_true',
                        help='add "sim_time" (time.time() of the put) to each poll, for latency benchmarks')
    parser.add_argument('--image-hz', type=float, default=30.0,
                        help='frames per second of the live image through a shared-memory ring (0: none; default 30)')
    parser.add_argument('--image-size', type=int, default=1024,
                        help='rows and columns of the live image (default 1024; at most 256 without numpy)')
    parser.add_argument('--quiet', action='store_true', help='print only what clients asked for (commands), the manager port line and plugin/command notes on stderr')
    parser.add_argument('--seed', type=int, default=1, help='random seed of the load bursts')
    args = parser.parse_args(argv)
    if args.hz <= 0 or args.hz > 1000:
        parser.error('--hz must be in (0, 1000]')
    if args.image_hz < 0 or args.image_hz > 1000:
        parser.error('--image-hz must be in [0, 1000]')
    if args.image_size < 16 or args.image_size > 8192:
        parser.error('--image-size must be in [16, 8192]')
    if args.plugin_after is not None and not args.plugin_after >= 0:
        parser.error('--plugin-after must be >= 0')
    if args.no_clients and client:
        parser.error('--no-clients and a client command (-- COMMAND...) exclude each other')
    args.client = client
    return args


def main(argv):
    args = parse_args(argv)
    QUIET[0] = args.quiet
    np = None
    if not args.no_numpy:
        try:
            import numpy as np
        except ImportError:
            np = None

    stop = threading.Event()
    stop_reason = ['']

    def request_stop(reason):
        if not stop.is_set():
            stop_reason[0] = reason
            stop.set()

    manager = NapariManager(address=('127.0.0.1', args.port), authkey=AUTHKEY)
    manager.start()
    # Only after the manager's process is forked, as in napari (which sets no handler): a forked server
    # would inherit this one and ignore SIGTERM, so an orphaned manager (its simulator killed hard) could
    # only be stopped with SIGKILL, and the manager's own finalizer's terminate() did nothing.
    # The handler runs in the main thread between two bytecodes, possibly while that thread holds `stop`'s
    # lock inside `stop.wait()`; `stop.set()` from there would wait for that lock forever (a CI run's
    # simulator was found so, 45 minutes after its SIGTERM). A thread of its own sets it instead.
    def on_signal(name):
        return lambda *_: threading.Thread(target=request_stop, args=(name,), daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal('SIGTERM'))
    signal.signal(signal.SIGINT, on_signal('SIGINT'))
    # Only after the manager's process is forked: its bootstrap closes sys.stdin, which would deadlock
    # on the buffer lock if a thread were blocked reading stdin at the moment of the fork.
    if args.watch_stdin:
        def watch_stdin():
            # os.read on the descriptor, not sys.stdin: a thread parked in a buffered read holds a lock
            # that interpreter shutdown then cannot take.
            try:
                while os.read(0, 4096):
                    pass
            except OSError:
                pass
            request_stop('stdin closed')
        threading.Thread(target=watch_stdin, daemon=True).start()
    server_port = manager.address[1]
    napari_data = manager.napari_data()
    napari_messages = manager.napari_messages()
    napari_shutdown = manager.napari_shutdown()
    client_messages = manager.client_messages()
    client_data = manager.client_data()  # held so the object lives as long as napari does
    log('manager on 127.0.0.1:%d, Python %s, %s, as %s' % (
        server_port, sys.version.split()[0], 'numpy %s' % np.__version__ if np is not None else 'no numpy (lists)',
        MIMICS[args.napari]))

    image = None
    if args.image_hz > 0:
        writer_class = import_ring_writer()
        if writer_class is None:
            log('no live image: webmon_ring (from @webmon/shm-reader) is not importable; set PYTHONPATH')
        elif not os.path.isdir('/dev/shm'):
            log('no live image: shared-memory rings need Linux /dev/shm')
        else:
            image = ImageStream(writer_class, np, args.image_size, args.image_hz)
            # What a napari plugin does: name the ring in napari's shared data, so webmon finds it.
            napari_data.update({RINGS_KEY: {IMAGE_TOPIC: image.name}})
            image.start()
            log('live image: %s' % image.describe())

    octree = args.napari == '0.4'
    layer = OctreeLayer(random.Random(args.seed)) if octree else None
    layer_id = id(layer)  # napari keys layers by id(layer), a Python int
    # Publish one frame before any client starts, so the first read finds data, as in a running napari.
    interval = 1.0 / args.hz

    def publish(t, frame_number, delta_ms):
        if not octree:
            # napari >= 0.5: QtPoll still sends the layers' remote messages, and no layer has any.
            poll = {'layers': {}}
            if args.stamp:
                poll['sim_time'] = time.time()
            napari_data.update({'poll': poll})
            napari_messages.put({'frame_time': {'time': time.time(), 'delta_ms': delta_ms}})
            return
        tile_config, seen, corners = layer.frame(t, frame_number)
        if np is not None:
            seen_value = np.array(seen, dtype=np.int64).reshape(-1, 2)
            corners_value = np.array(corners, dtype=np.float64)
        else:
            seen_value = [list(tile) for tile in seen]
            corners_value = corners
        poll = {'layers': {layer_id: {
            'tile_config': tile_config,
            'tile_state': {'seen': seen_value, 'corners': corners_value},
        }}}
        if args.stamp:
            poll['sim_time'] = time.time()
        napari_data.update({'poll': poll})
        napari_messages.put({'frame_time': {'time': time.time(), 'delta_ms': delta_ms}})
        for num_bytes in layer.take_loads():
            # Load time grows with size, plus disk/network jitter.
            load_ms = 1.0 + num_bytes / 20000.0 * layer.rng.uniform(0.5, 2.5)
            napari_messages.put({'load_chunk': {'time': time.time(), 'num_bytes': num_bytes, 'load_ms': load_ms}})

    started = time.monotonic()
    plugin = Plugin(args.plugin_after, started)
    publish(0.0, 0, interval * 1000.0)
    plugin.tick(started, napari_data, napari_messages)
    # Machine-readable, --quiet or not; once the first frame is in napari_data, before any client starts.
    log('manager port %d' % server_port, always=True)

    clients = start_clients(client_commands(args), server_port,
                            subprocess.DEVNULL if args.watch_stdin else None)
    deadline = started + args.seconds if args.seconds > 0 else None
    frame_number = 0
    last = time.monotonic()
    client_status = None
    try:
        while not stop.is_set():
            frame_number += 1
            next_frame = started + frame_number * interval
            delay = next_frame - time.monotonic()
            if delay > 0 and stop.wait(delay):
                break
            now = time.monotonic()
            if now - next_frame > 0.25:  # fell far behind (a suspended process): skip, do not catch up
                started = now - frame_number * interval
            try:
                publish(now - started, frame_number, (now - last) * 1000.0)
                last = now
                plugin.tick(now, napari_data, napari_messages)
                while True:
                    try:
                        command = client_messages.get_nowait()
                    except queue.Empty:
                        break
                    apply_command(layer, command, args.napari)
            except (EOFError, OSError, BrokenPipeError) as error:
                request_stop('manager connection lost: %s' % error)
                break
            if deadline is not None and now >= deadline:
                request_stop('%g seconds elapsed' % args.seconds)
            for process in clients:
                if args.exit_with_client and process.poll() is not None:
                    client_status = process.returncode
                    request_stop('client exited with status %d' % process.returncode)
    finally:
        log('stopping (%s)' % (stop_reason[0] or 'done'))
        if image is not None:
            image.close()
        try:
            napari_shutdown.set()
        except Exception:  # the manager may already be gone
            pass
        # napari signals the event and shuts down at once; give clients a moment to see the event first.
        if args.exit_with_client:
            wait_for(clients, 2.0)
        del napari_data, napari_messages, napari_shutdown, client_messages, client_data
        try:
            manager.shutdown()
        except Exception:
            pass
        # Like napari, clients are left to themselves (a webmon with --stay outlives napari), unless we
        # supervise them for a launcher.
        if args.exit_with_client and not wait_for(clients, 5.0):
            for process in clients:
                if process.poll() is None:
                    log('client %d did not exit; terminating it' % process.pid)
                    process.terminate()
            wait_for(clients, 5.0)
        for process in clients:
            if process.returncode is not None:
                log('client %d exited with status %d' % (process.pid, process.returncode))
    if client_status is not None:
        return client_status
    failed = [p.returncode for p in clients if p.returncode not in (0, None)]
    return failed[0] if failed and failed[0] > 0 else 0


def apply_command(layer, command, napari_version):
    """napari's RemoteCommands._process_command: each item is {method name: argument}, run as
    ``getattr(RemoteCommands, name)(args)`` catching AttributeError. napari 0.4's only method is
    show_grid(bool); napari >= 0.5 has none."""
    if not isinstance(command, dict):
        log('ignored a command that is not a dict: %r' % (command,))
        return
    for name, value in command.items():
        if napari_version == '0.4' and name == 'show_grid':
            if isinstance(value, bool):
                layer.show_grid = value
                log('show_grid %s' % value, always=True)
            else:
                log('ignored show_grid(%r): not a bool' % (value,))
            continue
        # What napari logs (LOGGER.error; napari >= 0.5 adds the AttributeError's traceback).
        log_error('RemoteCommands.%s does not exist.' % (name,))
        log_error("  (AttributeError: 'RemoteCommands' object has no attribute %r; the command was not run)" % (name,))


def wait_for(processes, seconds):
    end = time.monotonic() + seconds
    for process in processes:
        try:
            process.wait(max(0.0, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            return False
    return True


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
