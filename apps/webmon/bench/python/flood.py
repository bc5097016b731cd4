"""A message flood from Python: the webmon module's send_message against napari's direct queue put.

Run by ``flood.bench.ts`` under ``webmon run``. Both runs offer RATE messages/s for SECONDS seconds
(100 calls every millisecond, paced by the clock) and time every call. Prints one JSON line per run.

- ``webmon``: ``monitor.send_message`` (webmon's module: a bounded in-process queue, drop-oldest).
- ``control``: ``list.append`` in the same loop, before either: the machine's own noise (scheduling,
  the interpreter), what no send_message can beat.
- ``napari``: what napari's ``monitor.send_message`` does, ``napari_messages.put(message)`` on a proxy of
  a SharedMemoryManager started in a child process (``manager.start()``, as napari does); nobody reads it.
"""
import json
import os
import queue
import sys
import time
from multiprocessing.managers import SharedMemoryManager

from webmon import monitor

RATE = int(os.environ.get("FLOOD_RATE", "100000"))
SECONDS = float(os.environ.get("FLOOD_SECONDS", "5"))
PER_TICK = max(1, RATE // 1000)


def flood(send):
    times = []
    start = time.perf_counter()
    ticks = int(SECONDS * 1000)
    clock = time.perf_counter_ns
    sent = 0
    for tick in range(ticks):
        due = start + tick / 1000.0
        while time.perf_counter() < due:
            pass
        for i in range(PER_TICK):
            t0 = clock()
            send({"tick": {"n": sent, "t": t0}})
            times.append(clock() - t0)
            sent += 1
    elapsed = time.perf_counter() - start
    times.sort()
    return {
        "offered_per_s": RATE, "sent": sent, "achieved_per_s": round(sent / elapsed),
        "call_p50_us": times[len(times) // 2] / 1000.0, "call_p99_us": times[int(len(times) * 0.99)] / 1000.0,
        "call_p999_us": times[int(len(times) * 0.999)] / 1000.0, "call_max_us": times[-1] / 1000.0,
        "over_1ms": sum(1 for t in times if t > 1_000_000),
    }


_queue = queue.Queue()


def _get_queue():
    return _queue


class NapariLike(SharedMemoryManager):
    pass


NapariLike.register("napari_messages", callable=_get_queue)


def main():
    if os.environ.get("FLOOD_SWITCH_INTERVAL"):
        sys.setswitchinterval(float(os.environ["FLOOD_SWITCH_INTERVAL"]))
    sink = []
    result = flood(sink.append)
    result.update(run="control", dropped=0)
    print("result " + json.dumps(result), flush=True)
    del sink
    monitor.start(name="flood")
    result = flood(monitor.send_message)
    deadline = time.monotonic() + 30  # let webmon drain what is queued
    while monitor._messages.qsize() > 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    result.update(run="webmon", dropped=monitor._messages.dropped, queue_size=monitor._messages.maxsize)
    print("result " + json.dumps(result), flush=True)
    time.sleep(1.0)  # webmon's counters catch up before the driver reads them
    print("drained", flush=True)
    sys.stdin.readline()  # the driver has read webmon's counters
    monitor.stop()

    manager = NapariLike(address=("127.0.0.1", 0), authkey=b"napari")
    manager.start()
    messages = manager.napari_messages()
    result = flood(messages.put)
    result.update(run="napari", dropped=0)
    print("result " + json.dumps(result), flush=True)
    manager.shutdown()


if __name__ == "__main__":
    main()
