"""A buffer of records written together by a background thread.

Used where one row per API call would otherwise cost one transaction per call (usage
metering, the audit rows of reads). Records are written every `interval()` seconds (0:
each at once, in the caller's thread); a clean shutdown writes what is pending; a failed
write keeps its batch, in order, for the next attempt; past `max_pending` records the
database is taken to be down and the oldest are dropped, loudly, to bound memory.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class BatchWriter(Generic[T]):
    def __init__(
        self,
        name: str,
        write: Callable[[list[T]], None],
        interval: Callable[[], float],
        *,
        max_pending: int = 200_000,
    ) -> None:
        self.name = name
        self._write = write
        self._interval = interval  # read each time: tests and settings reloads may change it
        self._max_pending = max_pending
        self._pending: list[T] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._log = logging.getLogger(f"cityhub.{name}")

    def start(self) -> None:
        if self._interval() > 0 and self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=f"cityhub-{self.name}",
                                            daemon=True)  # fmt: skip
            self._thread.start()

    def close(self) -> None:
        """Stop the writer and write whatever is pending."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.flush()

    def add(self, record: T) -> None:
        with self._lock:
            if len(self._pending) >= self._max_pending:
                self._log.error("%s buffer full; dropping the oldest record", self.name)
                self._pending.pop(0)
            self._pending.append(record)
        if self._interval() <= 0 or self._thread is None or self._stop.is_set():
            self.flush()

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def flush(self) -> int:
        """Write the buffered records now; returns how many were written."""
        with self._write_lock:  # one writer at a time keeps the records in order
            with self._lock:
                batch, self._pending = self._pending, []
            if not batch:
                return 0
            try:
                self._write(batch)
            except Exception:
                self._log.exception("%s: %d records could not be written; will retry",
                                    self.name, len(batch))  # fmt: skip
                with self._lock:
                    self._pending[:0] = batch
                return 0
            return len(batch)

    def _run(self) -> None:
        while not self._stop.wait(self._interval() or 1.0):
            self.flush()
