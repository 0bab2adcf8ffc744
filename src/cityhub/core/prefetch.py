"""Preparing the next item in a background thread while the current one is consumed.

Polars (reading, checking, writing CSV) and the database driver (COPY, executemany) both
release the GIL, so on two cores a producer thread that prepares chunk N+1 while chunk N
is written hides most of the preparing time (the exchange checks the next chunk while
this one merges; COPY formats the next slice while the server takes this one). At most
`depth` finished items wait in the queue: memory follows the item size, not the stream.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


class _Failed:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def prefetch(items: Iterable[T], depth: int = 1) -> Iterator[T]:
    """Yield `items` as produced by a background thread; its exceptions are re-raised
    here, and stopping early (an exception in the consumer) stops the producer."""
    slots: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            put(_Failed(exc))
            return
        put(_DONE)

    worker = threading.Thread(target=produce, name="cityhub-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.exc
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()
