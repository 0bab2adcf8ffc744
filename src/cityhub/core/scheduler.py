"""A small in-process scheduler that other packages reuse.

- **Periodic jobs** (`Job`) and **one-shot tasks** (`Scheduler.submit`) run in a pool of
  worker threads. Every run has a timeout: a run that outlives it is abandoned, a
  replacement worker is started, and the job's failure is recorded, so a hanging job
  never blocks another. (Python cannot kill a thread; the abandoned one ends whenever its
  blocking call returns, and the run's result is then discarded.)
- **Several processes**: an exclusive job is claimed through a lease row in
  `scheduler_leases` with one conditional UPDATE, so across every process sharing the
  database only one runs it at a time, and it runs once per interval cluster-wide.
- Started from the app lifespan (`start_scheduler`), off with `CITYHUB_SCHEDULER_ENABLED`.

A task can ask whether it still counts (`claim_completion()`): it returns False once the
run was abandoned, so late results are not written next to the timeout already recorded.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import utcnow
from cityhub.core.scheduler_leases import JobLease, claim_lease, release_lease
from cityhub.core.scheduler_runs import Run, WorkerPool, claim_completion, current_run, set_current
from cityhub.core.times import as_utc
from cityhub.errors import Conflict, ValidationFailed
from cityhub.settings import Settings

__all__ = [
    "Job",
    "JobLease",
    "JobStatus",
    "Run",
    "Scheduler",
    "as_utc",
    "claim_completion",
    "current_run",
    "scheduler_of",
    "start_scheduler",
    "stop_scheduler",
]

log = logging.getLogger("cityhub.scheduler")
_MAX_NAME = 128


class _NotClaimed(Exception):
    """An exclusive job's lease is held elsewhere: this run does nothing."""


@dataclass(frozen=True)
class Job:
    """A periodic job. `exclusive` jobs run in one process at a time (lease row);
    others run in every process (e.g. a dispatcher whose work items are claimed one by one)."""

    name: str
    interval: float
    func: Callable[[], object]
    timeout: float
    exclusive: bool = True
    initial_delay: float = 0.0

    def __post_init__(self) -> None:
        check_schedule(self.name, self.interval, self.timeout)
        if self.initial_delay < 0:
            raise ValidationFailed(f"job {self.name!r}: initial_delay must not be negative")


def check_schedule(name: str, interval: float, timeout: float) -> None:
    """Refuse a schedule that cannot work, naming the job and the reason."""
    if not name or len(name) > _MAX_NAME:
        raise ValidationFailed(f"a job name has 1 to {_MAX_NAME} characters, got {name!r}")
    if not interval > 0:
        raise ValidationFailed(f"job {name!r}: interval must be positive, got {interval}")
    if not timeout > 0:
        raise ValidationFailed(f"job {name!r}: timeout must be positive, got {timeout}")


# -- the scheduler ------------------------------------------------------------------------


@dataclass
class JobState:
    job: Job
    next_due: float  # monotonic time of the next attempt in this process
    run: Run | None = None
    runs: int = 0
    failures: int = 0
    timeouts: int = 0
    skipped: int = 0  # due while the previous run was still going
    last_status: str = ""
    last_error: str = ""
    last_started: datetime | None = None
    last_finished: datetime | None = None
    last_duration_ms: float | None = None


@dataclass(frozen=True)
class JobStatus:
    name: str
    interval: float
    timeout: float
    exclusive: bool
    running: bool
    running_seconds: float | None
    abandoned_running: bool
    runs: int
    failures: int
    timeouts: int
    skipped: int
    last_status: str
    last_error: str
    last_started: datetime | None
    last_finished: datetime | None
    last_duration_ms: float | None


def _owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:128]


class Scheduler:
    """Periodic jobs and one-shot tasks in a worker pool, each run bounded by a timeout."""

    def __init__(
        self,
        factory: sessionmaker[Session] | None,
        settings: Settings | None = None,
        *,
        name: str = "cityhub-scheduler",
    ) -> None:
        self.factory = factory  # None: no leases (every job local to this process)
        self.settings = settings or Settings()
        self.owner = _owner_id()
        self.pool = WorkerPool(
            self.settings.scheduler_workers, f"{name}-worker", self.settings.scheduler_max_abandoned
        )
        self.pool.execute = self._execute
        self._jobs: dict[str, JobState] = {}
        self._tasks: dict[str, Run] = {}
        self._startup: list[Callable[[], object]] = []
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._name = name
        self.started_at: datetime | None = None
        self.last_tick: datetime | None = None

    # -- registration ---------------------------------------------------------------------

    def add(self, job: Job) -> None:
        with self._lock:
            if job.name in self._jobs:
                raise Conflict(f"a job named {job.name!r} is already scheduled")
            self._jobs[job.name] = JobState(job, time.monotonic() + job.initial_delay)

    def on_start(self, func: Callable[[], object]) -> None:
        """Run `func` once, synchronously, when the scheduler starts (before any job)."""
        self._startup.append(func)

    def has_job(self, name: str) -> bool:
        with self._lock:
            return name in self._jobs

    def submit(
        self,
        name: str,
        func: Callable[[], object],
        timeout: float,
        on_timeout: Callable[[], object] | None = None,
    ) -> bool:
        """Run `func` once in the pool; False when a task of that name is still running
        (a task never overlaps itself, not even with its own abandoned run)."""
        check_schedule(name, 1.0, timeout)
        run = Run(name, func, timeout, on_timeout)
        with self._lock:
            previous = self._tasks.get(name)
            if previous is not None and previous.finished is None:
                return False
            self._tasks[name] = run
        self.pool.submit(run)
        return True

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self.started_at = utcnow()
        for func in self._startup:
            try:
                func()
            except Exception:  # a package's start-up work must not stop the others
                log.exception("scheduler start-up work failed")
        self.pool.start()
        self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.pool.shutdown(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # the loop must survive anything a tick meets
                log.exception("scheduler tick failed")
            self._stop.wait(self.settings.scheduler_tick_seconds)

    # -- one round ---------------------------------------------------------------------------

    def tick(self, now: float | None = None) -> list[str]:
        """Abandon overdue runs, then start every due job; returns the jobs started."""
        now = time.monotonic() if now is None else now
        self.last_tick = utcnow()
        self._reap(now)
        started = []
        with self._lock:
            states = list(self._jobs.values())
        for state in states:
            if state.next_due > now:
                continue
            if state.run is not None and state.run.finished is None:
                state.skipped += 1  # never two runs of one job at once
                state.next_due = now + state.job.interval
                continue
            state.next_due = now + state.job.interval
            run = Run(state.job.name, self._body(state), state.job.timeout)
            state.run = run
            self.pool.submit(run)
            started.append(state.job.name)
        return started

    def _body(self, state: JobState) -> Callable[[], object]:
        """The job's function, behind its lease when exclusive. The claim runs in the worker,
        not in the loop, so a slow database never delays the timeouts of other runs."""
        job = state.job

        def body() -> object:
            if job.exclusive and self.factory is not None:
                claimed, next_due = self._claim(job)
                if not claimed:
                    state.next_due = next_due
                    raise _NotClaimed
                run = current_run()
                if run is not None:
                    run.lease = True
            return job.func()

        return body

    def _reap(self, now: float) -> None:
        with self._lock:
            runs = [s.run for s in self._jobs.values() if s.run is not None]
            runs += list(self._tasks.values())
            for name in [n for n, r in self._tasks.items() if r.finished is not None]:
                del self._tasks[name]
        for run in runs:
            if run.started is None or run.finished is not None or run.abandoned:
                continue
            if now - run.started <= run.timeout:
                continue
            if not run.try_abandon():
                continue
            run.status = "timeout"
            run.error = f"did not finish within {run.timeout:g} s"
            log.warning("scheduled run timed out", extra={"job": run.name, "timeout": run.timeout})
            self._note_finished(run, time.monotonic())
            self.pool.replace()
            if run.on_timeout is not None:
                callback = run.on_timeout
                self.pool.submit(Run(f"{run.name}:timeout", callback, run.timeout))

    # -- execution -----------------------------------------------------------------------------

    def _execute(self, run: Run) -> None:
        run.started = time.monotonic()
        run.status = "running"
        set_current(run)
        try:
            run.func()
        except _NotClaimed:
            run.status = "skipped"  # another process holds the lease or ran it already
        except Exception as exc:  # a job's failure is recorded, never fatal
            if not run.abandoned:
                run.status, run.error = "failed", f"{type(exc).__name__}: {exc}"[:500]
            log.exception("scheduled run failed", extra={"job": run.name})
        else:
            if not run.abandoned:
                run.status = "ok"
        finally:
            set_current(None)
            finished = time.monotonic()
            if not run.abandoned:
                run.finished = finished
                self._note_finished(run, finished)
            else:
                run.finished = finished  # the late return of an abandoned run

    def _note_finished(self, run: Run, finished: float) -> None:
        started = run.started or finished
        duration_ms = (finished - started) * 1000
        state = self._jobs.get(run.name)
        if run.status == "skipped":
            return
        if state is not None and state.run is run:
            state.runs += 1
            state.last_status, state.last_error = run.status, run.error
            state.last_duration_ms = round(duration_ms, 2)
            state.last_finished = utcnow()
            state.last_started = state.last_finished - timedelta(milliseconds=duration_ms)
            if run.status == "failed":
                state.failures += 1
            elif run.status == "timeout":
                state.timeouts += 1
        if run.lease and self.factory is not None:
            self._release(run, duration_ms)

    # -- leases ---------------------------------------------------------------------------------

    def _claim(self, job: Job) -> tuple[bool, float]:
        """Take the job's lease when it is due cluster-wide; else when to look again."""
        assert self.factory is not None
        taken, due = claim_lease(self.factory, job.name, job.interval, job.timeout, self.owner)
        if taken:
            return True, 0.0
        wait = job.interval if due is None else max(0.0, (due - utcnow()).total_seconds())
        return False, time.monotonic() + min(wait, job.interval)

    def _release(self, run: Run, duration_ms: float) -> None:
        assert self.factory is not None
        release_lease(self.factory, run.name, self.owner, run.status, run.error, duration_ms)

    # -- reporting ------------------------------------------------------------------------------

    def status(self) -> list[JobStatus]:
        now = time.monotonic()
        rows = []
        with self._lock:
            states = sorted(self._jobs.values(), key=lambda s: s.job.name)
        for s in states:
            run = s.run
            running = run is not None and run.finished is None and run.started is not None
            rows.append(
                JobStatus(
                    name=s.job.name,
                    interval=s.job.interval,
                    timeout=s.job.timeout,
                    exclusive=s.job.exclusive,
                    running=running,
                    running_seconds=round(now - run.started, 3)
                    if running and run is not None and run.started is not None
                    else None,
                    abandoned_running=bool(running and run is not None and run.abandoned),
                    runs=s.runs,
                    failures=s.failures,
                    timeouts=s.timeouts,
                    skipped=s.skipped,
                    last_status=s.last_status,
                    last_error=s.last_error,
                    last_started=s.last_started,
                    last_finished=s.last_finished,
                    last_duration_ms=s.last_duration_ms,
                )
            )
        return rows

    def stuck(self) -> list[str]:
        """Jobs and tasks whose abandoned run is still blocked."""
        with self._lock:
            runs = [s.run for s in self._jobs.values() if s.run is not None]
            runs += list(self._tasks.values())
        return sorted({r.name for r in runs if r.abandoned and r.finished is None})


# -- the app lifespan hook ---------------------------------------------------------------------


def scheduler_of(app: Any) -> Scheduler:
    """The app's scheduler (created, not started, on first use): packages add jobs to it."""
    existing: Scheduler | None = getattr(app.state, "scheduler", None)
    if existing is None:
        existing = Scheduler(app.state.sessions, app.state.settings)
        app.state.scheduler = existing
    return existing


def start_scheduler(app: Any) -> Scheduler | None:
    """Lifespan hook: start the jobs unless CITYHUB_SCHEDULER_ENABLED is false."""
    scheduler = scheduler_of(app)
    if not scheduler.settings.scheduler_enabled:
        return None
    scheduler.start()
    return scheduler


def stop_scheduler(scheduler: Scheduler | None) -> None:
    if scheduler is not None:
        scheduler.stop()
