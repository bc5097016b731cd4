"""Finds ``webmon_ring`` (the shared-memory ring writer) without copying it.

It ships in the npm package ``@webmon/shm-reader`` (``python/webmon_ring.py``), a dependency of the
``webmon`` app that ships this module: Node's module resolution puts it in a ``node_modules`` folder
above the app (inside the app for ``npm install -g`` and pnpm, beside it for ``npx``). Looked up the way
Node would: first on ``sys.path`` (``webmon run`` and the simulator put it there), then walking up.
"""

import importlib.util
import os
import sys

_found = []


def ring_writer_class():
    """The ``webmon_ring.RingWriter`` class; ``ImportError`` naming where it looked when it is missing."""
    if _found:
        return _found[0]
    try:
        from webmon_ring import RingWriter
    except ImportError:
        RingWriter = _load_from_node_modules()
    _found.append(RingWriter)
    return RingWriter


def ring_module_path():
    """Path of ``webmon_ring.py`` in the nearest ``node_modules/@webmon/shm-reader/python``, or None."""
    directory = os.path.dirname(os.path.abspath(__file__))
    while True:
        candidate = os.path.join(directory, "node_modules", "@webmon", "shm-reader", "python", "webmon_ring.py")
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def _load_from_node_modules():
    path = ring_module_path()
    if path is None:
        raise ImportError(
            "webmon_ring (from the npm package @webmon/shm-reader) was not found above %s nor on sys.path; "
            "run the program with `webmon run`, or put the folder of webmon_ring.py on PYTHONPATH"
            % os.path.dirname(os.path.abspath(__file__)))
    spec = importlib.util.spec_from_file_location("webmon_ring", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["webmon_ring"] = module  # one module object, whoever imports it next
    spec.loader.exec_module(module)
    return module.RingWriter
