# examples/share.py
# The Python side of read-python.mjs: a program that shares a dict, a queue and a float32 array in shared
# memory through a SharedMemoryManager (standard library only, Python 3.9+). It prints its port, then
# serves until its stdin closes (Ctrl-D) or Ctrl-C.
import queue
import struct
import sys
from multiprocessing.managers import SharedMemoryManager

state = {}
events = queue.Queue()


def get_state():
    return state


def get_events():
    return events


class Manager(SharedMemoryManager):
    pass


# Module-level functions, so the server process can find them under any start method (fork or spawn).
Manager.register('state', callable=get_state)
Manager.register('events', callable=get_events)

if __name__ == '__main__':
    authkey = (sys.argv[1] if len(sys.argv) > 1 else 'webmon-example').encode()
    with Manager(address=('127.0.0.1', 0), authkey=authkey) as manager:
        image = manager.SharedMemory(size=4 * 6)  # unlinked by the manager when it shuts down
        struct.pack_into('<6f', image.buf, 0, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5)
        manager.state().update({
            'layers': {140234: {'visible': True, 'opacity': 0.8}},  # an int key, as napari keys layers
            'image': {'name': image.name, 'dtype': '<f4', 'shape': [2, 3]},
        })
        manager.events().put({'frame_time': {'delta_ms': 16.7}})
        print(manager.address[1], flush=True)
        try:
            sys.stdin.read()
        except KeyboardInterrupt:
            pass
        image.close()
