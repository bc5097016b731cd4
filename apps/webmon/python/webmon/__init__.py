"""Show any Python program's live state in webmon, with napari's monitor API plus arrays.

    from webmon import monitor
    monitor.start()                                   # prints the URL
    monitor.add_data({"training": {"epoch": 3}})      # latest values
    monitor.send_message({"loss": {"step": i, "value": v}})   # a stream
    monitor.image("camera", frame, meta={"contrast_limits": [0, 255]})
    monitor.stop()                                    # also at interpreter exit

Standard library only (numpy is used when the caller passes numpy values). CPython 3.9-3.13. See the
README of the ``webmon`` npm package (section "Any Python program").
"""

from ._errors import WebmonValueError, WebmonWarning
from ._jsonlike import MAX_DEPTH, MAX_STRING_CHARS, to_json_like
from ._monitor import Monitor, monitor

__all__ = [
    "monitor", "Monitor", "WebmonValueError", "WebmonWarning", "to_json_like", "MAX_STRING_CHARS", "MAX_DEPTH",
    "RingWriter",
]


def __getattr__(name):
    # webmon_ring (the shared-memory ring writer of @webmon/shm-reader) is found on first use only.
    if name == "RingWriter":
        from ._ring import ring_writer_class
        return ring_writer_class()
    raise AttributeError("module 'webmon' has no attribute %r" % name)
