"""Uses only the webmon module: a latest value, a stream and an image, until the file argv[1] exists; exits 7."""
import array
import os
import sys
import time

from webmon import monitor

name = sys.argv[2] if len(sys.argv) > 2 else None
monitor.add_data({"ignored": "before start"})  # a no-op before start()
monitor.start(name=name)
try:
    import numpy as np
except ImportError:
    np = None
monitor.add_data({"training": {"epoch": 3, "numpy": np is not None, "python": "%d.%d" % sys.version_info[:2]}})
step = 0
while not os.path.exists(sys.argv[1]):
    monitor.send_message({"loss": {"step": step, "value": 1.0 / (step + 1)}})
    if np is not None:
        frame = (np.arange(12 * 16, dtype=np.float32).reshape(12, 16) + step)
        monitor.image("camera", frame, meta={"contrast_limits": [0, 255], "step": step})
    else:
        frame = array.array("f", [float(i + step) for i in range(12 * 16)])
        monitor.image("camera", frame, meta={"contrast_limits": [0, 255], "step": step}, dtype="<f4", shape=(12, 16))
    step += 1
    time.sleep(0.05)
monitor.stop()
monitor.send_message({"loss": {"after": "stop"}})  # a no-op after stop()
sys.exit(7)
