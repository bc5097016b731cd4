"""What the module tells its caller when something is wrong."""


class WebmonValueError(ValueError):
    """A value given to ``add_data``, ``send_message`` or ``image`` cannot be sent.

    ``code`` is stable (listed in the app README): ``WEBMON_PY_NOT_JSON`` (an object, bytes, or a dict
    key that is not a str/int/float/bool/None), ``WEBMON_PY_CYCLE`` (a container that contains itself),
    ``WEBMON_PY_TOO_DEEP`` (nested deeper than ``MAX_DEPTH``), ``WEBMON_PY_TOO_LARGE`` (a string longer
    than ``MAX_STRING_CHARS``, an array with more than ``MAX_ARRAY_ITEMS`` items, an image larger than the
    ring can hold), ``WEBMON_PY_BAD_ARGUMENT`` (not a dict where one is needed, a bad image name).
    ``path`` names where in the value the problem is (``loss.values[3]``).
    """

    def __init__(self, code, message, path=""):
        self.code = code
        self.path = path
        where = " at %s" % path if path else ""
        super().__init__("%s%s: %s" % (code, where, message))


class WebmonWarning(UserWarning):
    """Something was converted (NaN became null, a set became a list) or dropped (monitor not reachable)."""
