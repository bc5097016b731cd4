"""The monitor: napari's experimental monitor API (``add_data``, ``send_message``) for any program.

Like napari's ``MonitorApi`` it serves a multiprocessing manager on 127.0.0.1 with napari's five shared
objects (``napari_data``, ``napari_messages``, ``napari_shutdown``, ``client_data``, ``client_messages``)
and launches webmon as its client with ``NAPARI_MON_CLIENT`` (or, under ``webmon run``, asks that
webmon to attach). webmon reads it exactly as it reads napari.

Unlike napari, the manager's server runs in a thread of this process, not in a child process:
- a killed program (SIGKILL) takes the server with it: no orphaned server process keeps a port open
  (napari's does), and webmon sees the connection drop at once;
- ``send_message`` appends to the served queue directly (no round trip to another process): it never
  waits for webmon. The queue is bounded (``queue_size``); when webmon falls behind, the oldest
  message is dropped and counted in ``napari_data['webmon_dropped']`` (topic ``<prefix>.data.webmon_dropped``).
The authkey is random per start (napari's is the constant ``b'napari'``) and reaches webmon through
its environment (``WEBMON_AUTHKEY``) or the attach request, never the command line (``ps`` shows that).
"""

import atexit
import base64
import json
import os
import queue
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import warnings
from multiprocessing.managers import SharedMemoryManager

from ._errors import WebmonValueError, WebmonWarning
from ._jsonlike import to_json_like

NAMES = ("napari_data", "napari_messages", "napari_shutdown", "client_data", "client_messages")
#: ``napari_data`` key naming the shared-memory rings (``{topic name: ring name}``), read by webmon.
RINGS_KEY = "webmon_rings"
#: ``napari_data`` key counting messages dropped because webmon fell behind.
DROPPED_KEY = "webmon_dropped"
#: Messages held for webmon before the oldest is dropped.
DEFAULT_QUEUE_SIZE = 10000
#: Most messages handed to webmon in one ``get`` (as ``{"webmon_batch": [...]}``, which webmon unpacks):
#: one round trip for many messages. Bounded so that pickling a batch holds the GIL only briefly
#: (``send_message`` in another thread waits for it).
BATCH_KEY = "webmon_batch"
MAX_BATCH = 256
#: How long a non-blocking ``get`` (webmon draining a backlog) waits for a batch to fill. Each of
#: webmon's round trips costs this program's interpreter (the server runs in its threads, under the
#: GIL): fewer, fuller batches leave more of it to the program. Waiting releases the GIL.
BATCH_LINGER_S = 0.002
#: Environment of a program run by ``webmon run``: where to attach, and the run's secret.
RUN_URL_ENV = "WEBMON_RUN_URL"
RUN_TOKEN_ENV = "WEBMON_RUN_TOKEN"
RUN_TOKEN_HEADER = "x-webmon-run-token"
_IMAGE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,95}$")
_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")
_APP_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class _DropOldestQueue(queue.Queue):
    """A ``queue.Queue`` whose ``put`` never blocks: when full, the oldest item makes room."""

    def __init__(self, maxsize, on_drop):
        super().__init__(maxsize)
        self.dropped = 0
        self._on_drop = on_drop

    def put(self, item, block=True, timeout=None):
        with self.not_full:
            dropped = False
            if 0 < self.maxsize <= self._qsize():
                self._get()
                self.dropped += 1
                dropped = True
            self._put(item)
            self.unfinished_tasks += 1
            self.not_empty.notify()
        if dropped:
            self._on_drop(self.dropped)

    def put_nowait(self, item):
        self.put(item)

    def get(self, block=True, timeout=None):
        """Like ``Queue.get``, but a backlog comes as one ``{"webmon_batch": [item, ...]}`` (oldest first)."""
        if not block and self.qsize() < MAX_BATCH:
            time.sleep(BATCH_LINGER_S)  # a sleep, not a wait on not_empty: every put would wake a wait
        with self.not_empty:
            if not block:
                if not self._qsize():
                    raise queue.Empty
            elif timeout is None:
                while not self._qsize():
                    self.not_empty.wait()
            else:
                deadline = time.monotonic() + timeout
                while not self._qsize():
                    remaining = deadline - time.monotonic()
                    if remaining <= 0.0:
                        raise queue.Empty
                    self.not_empty.wait(remaining)
            count = min(self._qsize(), MAX_BATCH)
            items = [self._get() for _ in range(count)]
            self.not_full.notify()
        return items[0] if count == 1 else {BATCH_KEY: items}

    def get_nowait(self):
        return self.get(False)


class _Manager(SharedMemoryManager):
    """Its own class, so the registry (filled per start) stays local."""


def source_name(name):
    """A topic prefix from ``name`` (or the script's name): a letter, then letters, digits, _ or -."""
    if name is None:
        script = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] not in ("", "-c", "-m") else ""
        name = os.path.splitext(script)[0] or "python"
    text = re.sub(r"[^A-Za-z0-9_-]", "_", str(name))[:32]
    if not text or not text[0].isalpha():
        text = ("py" + text)[:32]
    return text


class Monitor:
    """One per process: use ``webmon.monitor``. Every method may be called at any time, from any thread."""

    def __init__(self):
        self._lock = threading.RLock()
        self._active = False
        self._data = None
        self._messages = None
        self._shutdown = None
        self._listener = None
        self._client = None
        self._rings = {}
        self._ring_lock = threading.Lock()
        self.url = None
        self.prefix = None
        self.port = None
        self._atexit = False

    # -- lifecycle ----------------------------------------------------------------------------------
    def start(self, port=None, name=None, queue_size=DEFAULT_QUEUE_SIZE):
        """Serves this program's data and shows it in webmon; returns the page URL (None if webmon did not come).

        ``port``: webmon's HTTP port (default ``$WEBMON_PORT``, else webmon's own default, 5000; 0 picks
        a free one). ``name``: the topic prefix (default: the script's name). Under ``webmon run`` the
        program attaches to that webmon (``port`` is then ignored); else webmon is launched as the
        client of this program, as napari launches it. Calling it again returns the same URL.
        """
        with self._lock:
            if self._active:
                return self.url
            if sys.version_info < (3, 9):
                warnings.warn("webmon: the monitor needs Python >= 3.9 (this is %s); not started" % sys.version.split()[0], WebmonWarning, stacklevel=2)
                return None
            authkey = secrets.token_hex(16)
            self._serve(authkey.encode("ascii"), int(queue_size))
            self._active = True
            if not self._atexit:
                atexit.register(self.stop)
                self._atexit = True
            prefix = source_name(name)
            try:
                if os.environ.get(RUN_URL_ENV):
                    self._attach(authkey, prefix)
                else:
                    self._launch(authkey, prefix, port)
            except Exception as error:  # webmon missing, refused, or gone: the program runs on without it
                warnings.warn("webmon: not monitoring (%s)" % error, WebmonWarning, stacklevel=2)
                self.stop()
                return None
            return self.url

    def stop(self):
        """Tells webmon this program is done, closes the rings and the server. Safe to call twice."""
        with self._lock:
            if not self._active:
                return
            self._active = False
            with self._ring_lock:
                rings, self._rings = list(self._rings.values()), {}
            self._data.pop(RINGS_KEY, None)
            self._shutdown.set()  # webmon's shutdown watch sees this within its wait (0.25 s)
            client, self._client = self._client, None
            if client is not None:
                try:
                    client.wait(5)
                except subprocess.TimeoutExpired:
                    client.terminate()
                    try:
                        client.wait(5)
                    except subprocess.TimeoutExpired:
                        client.kill()
            else:
                time.sleep(0.3)  # an attached webmon: let it see the shutdown before the connection drops
            for ring in rings:
                ring.close()
            _close_listener(self._listener)
            self._listener = None

    @property
    def active(self):
        return self._active

    # -- the napari API -------------------------------------------------------------------------------
    def add_data(self, data):
        """Merges ``data`` (a dict) into the latest values, like napari's ``monitor.add_data``: each key
        is a topic ``<prefix>.data.<key>``. No-op before ``start()`` and after ``stop()``."""
        if not self._active:
            return
        if not isinstance(data, dict):
            raise WebmonValueError("WEBMON_PY_BAD_ARGUMENT", "add_data takes a dict, got %s" % type(data).__name__)
        converted = to_json_like(data)
        target = self._data
        if target is not None:
            target.update(converted)

    def send_message(self, message):
        """Queues ``message`` (a dict ``{kind: value}``) for webmon, like napari's ``monitor.send_message``:
        each kind is a stream topic ``<prefix>.message.<kind>``. Never waits for webmon (see the module doc).
        No-op before ``start()`` and after ``stop()``."""
        if not self._active:
            return
        if not isinstance(message, dict):
            raise WebmonValueError("WEBMON_PY_BAD_ARGUMENT", "send_message takes a dict, got %s" % type(message).__name__)
        converted = to_json_like(message)
        messages = self._messages
        if messages is not None and converted:
            messages.put(converted)

    def image(self, name, data, meta=None, dtype=None, shape=None):
        """Publishes an array (numpy, or any buffer: bytes, bytearray, memoryview, array.array) as topic
        ``<prefix>.<name>`` through a shared-memory ring. ``meta``: JSON-like metadata (e.g.
        ``{"contrast_limits": [0, 255]}``). Without numpy, ``dtype`` (``'<f4'``, ``'|u1'``) and ``shape``
        (``(rows, columns)``) say what a flat buffer holds. Returns the record's sequence number, or None
        when inactive."""
        if not self._active:
            return None
        if not isinstance(name, str) or not _IMAGE_NAME.match(name):
            raise WebmonValueError("WEBMON_PY_BAD_ARGUMENT", "image names are 1-96 letters, digits, _ . or - (got %r)" % (name,))
        meta_value = None if meta is None else to_json_like(meta, "meta")
        nbytes = _nbytes(data)
        with self._ring_lock:
            if not self._active:
                return None
            ring = self._rings.get(name)
            if ring is None or _capacity(ring) < nbytes:
                from ._ring import ring_writer_class
                writer = ring_writer_class()
                # Room for this frame and a little growth; a larger frame later gets a new ring.
                new_ring = writer(slots=4, max_payload=max(nbytes, 1), max_meta=16384)
                self._rings[name] = new_ring
                self._data[RINGS_KEY] = {key: value.name for key, value in self._rings.items()}
                if ring is not None:
                    ring.close()
                ring = new_ring
            try:
                return ring.publish(data, meta_value, dtype=dtype, shape=shape)
            except ValueError as error:
                raise WebmonValueError("WEBMON_PY_TOO_LARGE", str(error), name)

    # -- internals ------------------------------------------------------------------------------------
    def _serve(self, authkey, queue_size):
        self._data = {}
        self._shutdown = threading.Event()
        data = self._data

        def on_drop(count):
            data[DROPPED_KEY] = {"messages": count}

        self._messages = _DropOldestQueue(queue_size, on_drop)
        objects = (self._data, self._messages, self._shutdown, {}, queue.Queue())
        manager_class = type("_WebmonManager", (_Manager,), {})
        for typeid, value in zip(NAMES, objects):
            manager_class.register(typeid, callable=(lambda value=value: value))
        server = manager_class(address=("127.0.0.1", 0), authkey=authkey).get_server()
        server.stop_event = threading.Event()
        self._listener = server.listener
        self.port = server.address[1]
        thread = threading.Thread(target=_accept, args=(server, server.listener), name="webmon-manager", daemon=True)
        thread.start()

    def _launch(self, authkey, prefix, port):
        if port is None and os.environ.get("WEBMON_PORT"):
            port = os.environ["WEBMON_PORT"]
        command = _webmon_command()
        if port is not None:
            command += ["--port", str(int(port))]
        env = dict(os.environ)
        env["NAPARI_MON_CLIENT"] = base64.b64encode(json.dumps({"server_port": self.port}).encode("ascii")).decode("ascii")
        env["WEBMON_AUTHKEY"] = authkey
        env["WEBMON_SOURCE_NAME"] = prefix
        client = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        self._client = client
        found = threading.Event()

        def forward():
            for raw in client.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                match = re.match(r"^webmon: serving (\S+)", line)
                if match and not found.is_set():
                    self.url = match.group(1)
                    found.set()
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
            found.set()

        threading.Thread(target=forward, name="webmon-client-output", daemon=True).start()
        found.wait(60)
        if self.url is None:
            raise RuntimeError("webmon exited with status %s before serving" % client.poll() if client.poll() is not None else "webmon did not print its URL within 60 s")
        self.prefix = prefix

    def _attach(self, authkey, prefix):
        from urllib.request import Request, urlopen
        base = os.environ[RUN_URL_ENV]
        body = json.dumps({"port": self.port, "authkey": authkey, "name": prefix, "pid": os.getpid()}).encode("utf-8")
        request = Request(base.rstrip("/") + "/api/sources", data=body, method="POST", headers={
            "content-type": "application/json", RUN_TOKEN_HEADER: os.environ.get(RUN_TOKEN_ENV, "")})
        with urlopen(request, timeout=10) as response:
            answer = json.loads(response.read().decode("utf-8"))
        self.prefix = answer["prefix"]
        self.url = answer["url"]
        sys.stdout.write("webmon: %s (topics %s.*)\n" % (self.url, self.prefix))
        sys.stdout.flush()


def _accept(server, listener):
    """The server's accept loop. Unlike the stdlib's, it ends when the listener closes, and a client
    with the wrong authkey does not end it."""
    while True:
        try:
            connection = listener.accept()
        except OSError:
            if listener._listener is None:
                return  # closed by stop()
            continue
        except Exception:  # AuthenticationError, EOFError during the handshake: that client only
            continue
        threading.Thread(target=server.handle_request, args=(connection,), daemon=True).start()


def _close_listener(listener):
    # close() alone does not wake a thread blocked in accept() on Linux; shutdown() does.
    socket_ = getattr(getattr(listener, "_listener", None), "_socket", None)
    try:
        if socket_ is not None:
            socket_.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        listener.close()
    except Exception:
        pass


def _webmon_command():
    """The webmon this module ships with (``<app>/dist/cli.js`` under node), else ``webmon`` on PATH."""
    cli = os.path.join(_APP_DIR, "dist", "cli.js")
    node = os.environ.get("WEBMON_NODE") or shutil.which("node")
    if os.path.isfile(cli) and node:
        return [node, cli]
    found = shutil.which("webmon")
    if found:
        return [found]
    raise RuntimeError("no webmon to launch: neither %s (with node) nor `webmon` on PATH" % cli)


def _nbytes(data):
    nbytes = getattr(data, "nbytes", None)
    if nbytes is None:
        try:
            nbytes = memoryview(data).nbytes
        except TypeError:
            raise WebmonValueError("WEBMON_PY_NOT_JSON", "image data must be a numpy array or a buffer (bytes, bytearray, memoryview, array.array), got %s" % type(data).__name__)
    return int(nbytes)


def _capacity(ring):
    return ring.slot_capacity - 16384


monitor = Monitor()
