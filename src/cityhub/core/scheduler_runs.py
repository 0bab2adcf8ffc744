"""Runs of the scheduler and its elastic worker pool (see cityhub.core.scheduler).

A run that outlives its timeout is abandoned: its worker is replaced, so hung runs never
use up the pool, and the abandoned thread leaves the pool when its call finally returns.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Run:
    """One execution of a job or task."""

    name: str
    func: Callable[[], object]
    timeout: float
    on_timeout: Callable[[], object] | None = None
    lease: bool = False
    submitted: float = field(default_factory=time.monotonic)
    started: float | None = None
    finished: float | None = None
    status: str = "queued"  # queued, running, ok, failed, timeout
    error: str = ""
    abandoned: bool = False
    _settled: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def claim_completion(self) -> bool:
        """True once for a run that has not been abandoned; it can then no longer be."""
        with self._lock:
            if self.abandoned:
                return False
            self._settled = True
            return True

    def try_abandon(self) -> bool:
        with self._lock:
            if self._settled or self.finished is not None:
                return False
            self.abandoned = True
            return True


_current = threading.local()


def set_current(run: Run | None) -> None:
    """The run the calling worker thread now executes (None when it is done)."""
    _current.run = run


def current_run() -> Run | None:
    """The run executing in this thread, if any."""
    run: Run | None = getattr(_current, "run", None)
    return run


def claim_completion() -> bool:
    """Inside a task: may its result still be written? (False after a timeout.)"""
    run = current_run()
    return True if run is None else run.claim_completion()


class WorkerPool:
    """Daemon worker threads fed by one queue. `replace()` adds a worker for one that is
    stuck in an abandoned run; that worker leaves the pool when its run finally returns."""

    def __init__(self, size: int, name: str, max_abandoned: int) -> None:
        self.size = size
        self.name = name
        self.max_abandoned = max_abandoned
        self._queue: queue.SimpleQueue[Run | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: set[threading.Thread] = set()
        self._serial = 0
        self.abandoned = 0
        self.execute: Callable[[Run], None] = lambda run: None

    def start(self) -> None:
        for _ in range(self.size):
            self._spawn()

    def _spawn(self) -> None:
        with self._lock:
            self._serial += 1
            thread = threading.Thread(
                target=self._work, name=f"{self.name}-{self._serial}", daemon=True
            )
            self._threads.add(thread)
        thread.start()

    def submit(self, run: Run) -> None:
        self._queue.put(run)

    def replace(self) -> bool:
        """A worker is stuck in an abandoned run: start another, within the limit."""
        with self._lock:
            if self.abandoned >= self.max_abandoned:
                self.abandoned += 1
                return False
            self.abandoned += 1
        self._spawn()
        return True

    def _work(self) -> None:
        me = threading.current_thread()
        while True:
            run = self._queue.get()
            if run is None:
                break
            self.execute(run)
            if run.abandoned:  # a replacement took this worker's place: leave the pool
                with self._lock:
                    self.abandoned -= 1
                break
        with self._lock:
            self._threads.discard(me)

    def shutdown(self, timeout: float) -> None:
        with self._lock:
            threads = list(self._threads)
        for _ in threads:
            self._queue.put(None)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    @property
    def threads(self) -> int:
        with self._lock:
            return len(self._threads)
