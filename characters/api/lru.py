"""A mapping bounded in bytes, for the read cache's rendered bodies."""

import threading
from collections import OrderedDict

# What an entry costs besides its body: its key (ids, revisions, host) and the bookkeeping.
ENTRY_OVERHEAD_BYTES = 512


class LRU:
    """Bodies (bytes) by key, forgetting the least recently used first once over `max_bytes`.

    An entry costs its body plus ENTRY_OVERHEAD_BYTES; a body larger than the whole bound is
    not kept. Safe to share between a process's threads.
    """

    def __init__(self, max_bytes):
        self.max_bytes = max_bytes
        self.size_bytes = 0
        self._data = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def cost(body):
        return len(body) + ENTRY_OVERHEAD_BYTES

    def get(self, key):
        with self._lock:
            body = self._data.get(key)
            if body is not None:
                self._data.move_to_end(key)
            return body

    def put(self, key, body):
        cost = self.cost(body)
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self.size_bytes -= self.cost(old)
            if cost > self.max_bytes:
                return
            self._data[key] = body
            self.size_bytes += cost
            while self.size_bytes > self.max_bytes:
                _, dropped = self._data.popitem(last=False)
                self.size_bytes -= self.cost(dropped)

    def clear(self):
        with self._lock:
            self._data.clear()
            self.size_bytes = 0

    def __len__(self):
        return len(self._data)
