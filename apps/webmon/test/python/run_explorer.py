"""For run-explorer.e2e.test.ts; uses only the webmon module. A latest value, a stream and a known image
(two opposite ramps), then a new latest key 60 s after start; runs until the file argv[1] exists."""
import os
import sys
import time

started = time.monotonic()

from webmon import monitor  # noqa: E402

#: When the new key comes: a minute in, as the issue asks (a page open before it must show it without reload).
LATE_AFTER_S = 60.0
ROWS, COLUMNS = 32, 128

try:
    import numpy as np
except ImportError:
    np = None


def level(row, column):
    """Top half: dark to bright left to right (0…254); bottom half: the other way."""
    return 2 * column if row < ROWS // 2 else 254 - 2 * column


if np is not None:
    columns = np.arange(COLUMNS, dtype=np.float32)
    frame = np.empty((ROWS, COLUMNS), dtype=np.float32)
    frame[: ROWS // 2] = 2 * columns
    frame[ROWS // 2:] = 254 - 2 * columns
    image_args = {}
    via = "numpy float32"
else:
    frame = bytes(level(row, column) for row in range(ROWS) for column in range(COLUMNS))
    image_args = {"dtype": "|u1", "shape": (ROWS, COLUMNS)}
    via = "bytes uint8"

monitor.start()
monitor.add_data({"training": {"epoch": 3, "numpy": np is not None, "python": "%d.%d" % sys.version_info[:2], "image": via}})
step = 0
late = False
while not os.path.exists(sys.argv[1]):
    monitor.send_message({"loss": {"step": step, "value": 1.0 / (step + 1)}})
    if step % 5 == 0:
        monitor.image("gradient", frame, meta={"colormap": "gray", "contrast_limits": [0, 255], "step": step}, **image_args)
    elapsed = time.monotonic() - started
    if not late and elapsed >= LATE_AFTER_S:
        monitor.add_data({"late": {"after_s": round(elapsed, 1), "answer": 42}})
        late = True
        print("run_explorer: late key added after %.1f s" % elapsed, flush=True)
    step += 1
    time.sleep(0.05)
monitor.stop()
