"""Values → what webmon can show (JSON), checked on the Python side.

webmon reads Python values through the multiprocessing manager (pickle) and turns them into JSON. Some
values have no JSON form: rather than let webmon guess (or refuse the whole item far from the call),
each is converted here with a ``WebmonWarning`` or refused with a ``WebmonValueError`` at the call:

converted (warning): NaN and +/-inf -> null; a set or frozenset -> a list (sorted when it can be);
    a dict key that is an int, float, bool or None -> its JSON text (as ``json.dumps`` does).
converted (silently): a tuple -> a list; numpy scalars -> Python numbers; a numpy array of at most
    ``MAX_ARRAY_ITEMS`` items -> nested lists (for images use ``monitor.image``).
refused (``WebmonValueError``): any other object (``WEBMON_PY_NOT_JSON``; pass ``str(x)`` or a dict of
    its fields), bytes (use ``monitor.image``), a container that contains itself (``WEBMON_PY_CYCLE``),
    nesting deeper than ``MAX_DEPTH`` (``WEBMON_PY_TOO_DEEP``), a string longer than
    ``MAX_STRING_CHARS`` or an array longer than ``MAX_ARRAY_ITEMS`` (``WEBMON_PY_TOO_LARGE``).
"""

import math
import warnings

from ._errors import WebmonValueError, WebmonWarning

#: Longest string sent (characters). A value is shown in a browser, many times a second: a multi-megabyte
#: string there is a mistake (a log, a file), and it would stall the page that shows it.
MAX_STRING_CHARS = 65536
#: Deepest nesting of lists and dicts.
MAX_DEPTH = 64
#: Most items of one list, set, or numpy array (arrays beyond belong in ``monitor.image``).
MAX_ARRAY_ITEMS = 100000

_SCALARS = (str, int, float, bool, type(None))


def to_json_like(value, path=""):
    """Returns ``value`` as JSON-like Python data (dict/list/str/int/float/bool/None); see the module doc."""
    return _convert(value, path, 0, set())


def _join(path, key):
    return "%s.%s" % (path, key) if path else str(key)


def _convert(value, path, depth, active):
    kind = type(value)
    if kind is str:
        if len(value) > MAX_STRING_CHARS:
            raise WebmonValueError("WEBMON_PY_TOO_LARGE", "a string of %d characters (at most %d are sent)" % (len(value), MAX_STRING_CHARS), path)
        return value
    if kind is int or kind is bool or value is None:
        return value
    if kind is float:
        if math.isfinite(value):
            return value
        warnings.warn("webmon: %s at %s sent as null (JSON has no NaN or infinity)" % (value, path or "(top)"), WebmonWarning, stacklevel=4)
        return None
    if depth >= MAX_DEPTH:
        raise WebmonValueError("WEBMON_PY_TOO_DEEP", "nested deeper than %d levels" % MAX_DEPTH, path)
    if kind is dict or kind is list or kind is tuple or kind is set or kind is frozenset or isinstance(value, (dict, list, tuple, set, frozenset)):
        ident = id(value)
        if ident in active:
            raise WebmonValueError("WEBMON_PY_CYCLE", "this %s contains itself" % kind.__name__, path)
        active.add(ident)
        try:
            if isinstance(value, dict):
                return _convert_dict(value, path, depth, active)
            if isinstance(value, (set, frozenset)):
                items = list(value)
                try:
                    items.sort()
                except TypeError:
                    pass  # mixed kinds: in iteration order
                warnings.warn("webmon: a %s at %s sent as a list" % (kind.__name__, path or "(top)"), WebmonWarning, stacklevel=4)
            else:
                items = value
            if len(items) > MAX_ARRAY_ITEMS:
                raise WebmonValueError("WEBMON_PY_TOO_LARGE", "%d items (at most %d; use monitor.image for arrays)" % (len(items), MAX_ARRAY_ITEMS), path)
            return [_convert(item, "%s[%d]" % (path, i), depth + 1, active) for i, item in enumerate(items)]
        finally:
            active.discard(ident)
    if isinstance(value, (str, int, float)):  # subclasses (IntEnum, a str subclass): their plain value
        base = str if isinstance(value, str) else bool if isinstance(value, bool) else int if isinstance(value, int) else float
        return _convert(base(value), path, depth, active)
    if isinstance(value, (bytes, bytearray, memoryview)):
        raise WebmonValueError("WEBMON_PY_NOT_JSON", "bytes have no JSON form: use monitor.image(name, data) for binary data, or decode them", path)
    numpy_value = _from_numpy(value, path)
    if numpy_value is not _NOT_NUMPY:
        return _convert(numpy_value, path, depth, active)
    raise WebmonValueError(
        "WEBMON_PY_NOT_JSON",
        "a %s.%s is not JSON-like (send str(x), or a dict of its fields)" % (kind.__module__, kind.__qualname__), path)


def _convert_dict(value, path, depth, active):
    out = {}
    for key, item in value.items():
        if type(key) is not str:
            if isinstance(key, str):
                key = str(key)
            elif key is None or isinstance(key, (bool, int, float)):
                text = "null" if key is None else "true" if key is True else "false" if key is False else repr(key) if isinstance(key, float) else str(int(key))
                warnings.warn("webmon: dict key %r at %s sent as %r" % (key, path or "(top)", text), WebmonWarning, stacklevel=5)
                key = text
            else:
                raise WebmonValueError("WEBMON_PY_NOT_JSON", "a dict key of type %s (keys must be str, int, float, bool or None)" % type(key).__name__, path)
        out[key] = _convert(item, _join(path, key), depth + 1, active)
    return out


_NOT_NUMPY = object()


def _from_numpy(value, path):
    """numpy scalars and arrays, recognised without importing numpy (it is optional)."""
    module = type(value).__module__
    if module != "numpy" and not module.startswith("numpy."):
        return _NOT_NUMPY
    if hasattr(value, "shape") and hasattr(value, "tolist"):
        size = int(getattr(value, "size", 0))
        if getattr(value, "ndim", 0) and size > MAX_ARRAY_ITEMS:
            raise WebmonValueError("WEBMON_PY_TOO_LARGE", "a numpy array of %d items (at most %d; use monitor.image for arrays)" % (size, MAX_ARRAY_ITEMS), path)
        return value.tolist()  # numbers, nested lists; NaN is caught again by _convert
    if hasattr(value, "item"):
        return value.item()
    return _NOT_NUMPY
