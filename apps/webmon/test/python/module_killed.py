"""Starts webmon itself (napari's way), publishes an image, prints what a test must find gone after kill -9."""
import json
import time

from webmon import monitor

url = monitor.start(name="killed")
monitor.add_data({"alive": True})
monitor.image("camera", bytes(64 * 64), dtype="|u1", shape=(64, 64))
ring = monitor._rings["camera"].name
from multiprocessing import resource_tracker  # noqa: E402  (started by the ring's SharedMemory)
tracker = resource_tracker._resource_tracker._pid
client = monitor._client.pid if monitor._client is not None else None
print("facts " + json.dumps({"url": url, "ring": ring, "webmon": client, "port": monitor.port, "tracker": tracker}), flush=True)
while True:
    time.sleep(1)
