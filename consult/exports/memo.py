"""A small per-process memo for pages read far more often than they change."""

from collections import OrderedDict
from collections.abc import Callable, Hashable
from threading import Lock
from typing import Generic, TypeVar

Value = TypeVar("Value")


class Memo(Generic[Value]):
    """Values computed once per key and kept per process, the `size` most recently read, safe across threads.

    The key must change whenever what the value shows changes, so an old entry
    is never read again and simply ages out. The value is computed outside the
    lock, so one slow computation does not hold up readers of other keys; two
    threads that miss the same key at once both compute it, and the later one
    is kept.
    """

    def __init__(self, size: int):
        self._size = size
        self._entries: OrderedDict[Hashable, Value] = OrderedDict()
        self._lock = Lock()

    def get(self, key: Hashable, compute: Callable[[], Value]) -> Value:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        value = compute()
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
