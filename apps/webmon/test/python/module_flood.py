"""A burst far beyond the queue: every message is either delivered or counted as dropped."""
import os
import sys
import time

from webmon import monitor

monitor.start(name="flood", queue_size=100)
started = time.perf_counter()
slowest = 0.0
for n in range(20000):
    t0 = time.perf_counter()
    monitor.send_message({"tick": {"n": n}})
    slowest = max(slowest, time.perf_counter() - t0)
print("sent 20000 in %.3f s, dropped %d" % (time.perf_counter() - started, monitor._messages.dropped), flush=True)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.05)
monitor.stop()
