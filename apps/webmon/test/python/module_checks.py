"""The module's own promises, checked in Python and printed as JSON: no-ops, conversions, refusals."""
import json
import math
import sys
import warnings

import webmon
from webmon import WebmonValueError, WebmonWarning, monitor, to_json_like

out = {}
# Before start(): nothing happens, nothing is checked, nothing raises.
out["before"] = [monitor.add_data({"x": object()}), monitor.send_message("not even a dict"), monitor.image("bad name!", b""), monitor.stop()]


class Thing:
    pass


def code_of(value):
    try:
        to_json_like(value)
    except WebmonValueError as error:
        return [error.code, error.path]
    return None


cycle = []
cycle.append(cycle)
deep = []
for _ in range(100):
    deep = [deep]
out["refused"] = {
    "object": code_of({"a": Thing()}),
    "bytes": code_of({"b": b"\x00"}),
    "cycle": code_of({"c": cycle}),
    "deep": code_of(deep),
    "huge_string": code_of({"s": "x" * (webmon.MAX_STRING_CHARS + 1)}),
    "bad_key": code_of({(1, 2): 3}),
}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    out["converted"] = to_json_like({"nan": math.nan, "inf": -math.inf, "set": {3, 1, 2}, "tuple": (1, "a"), 5: "int key", "ok": "x" * webmon.MAX_STRING_CHARS == "x" * 65536})
    out["warnings"] = sorted(set(type(w.message).__name__ for w in caught if issubclass(w.category, WebmonWarning)))
print(json.dumps(out), flush=True)
