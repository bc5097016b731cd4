"""Started under webmon run: bad values are refused at the call and never reach webmon; good ones keep flowing."""
import json
import math
import os
import sys
import time
import warnings

from webmon import WebmonValueError, monitor

monitor.start(name="bad")
codes = []
for value in ({"obj": object()}, {"bytes": b"abc"}, {"huge": "x" * 10_000_000}):
    for call in (monitor.add_data, monitor.send_message):
        try:
            call(value)
        except WebmonValueError as error:
            codes.append(error.code)
warnings.simplefilter("ignore")
monitor.add_data({"nan": {"value": math.nan}})
print("codes " + json.dumps(codes), flush=True)
step = 0
while not os.path.exists(sys.argv[1]):
    monitor.add_data({"good": {"step": step}})
    step += 1
    time.sleep(0.02)
monitor.stop()
