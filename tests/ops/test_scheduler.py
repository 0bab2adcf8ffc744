"""The in-process scheduler: periodic jobs, timeouts that never block other jobs, leases
that keep a job to one process at a time, and its place in the app lifespan."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from cityhub.app import create_app
from cityhub.core.db import transaction, utcnow
from cityhub.core.scheduler import (
    Job,
    JobLease,
    Scheduler,
    claim_completion,
)
from cityhub.errors import ConfigError, Conflict, ValidationFailed
from cityhub.settings import Settings, load_settings


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def quick(workers: int = 2) -> Settings:
    return Settings(scheduler_workers=workers, scheduler_tick_seconds=0.02)


def test_a_periodic_job_runs_every_interval_and_reports_its_runs() -> None:
    runs: list[float] = []
    scheduler = Scheduler(None, quick())
    scheduler.add(Job("count", 0.05, lambda: runs.append(time.monotonic()), timeout=1))
    scheduler.start()
    try:
        assert wait_for(lambda: len(runs) >= 4)
    finally:
        scheduler.stop()
    gaps = [b - a for a, b in itertools.pairwise(runs)]
    assert min(gaps) >= 0.04  # never faster than its interval
    [status] = scheduler.status()
    assert status.name == "count" and status.runs >= 4 and status.last_status == "ok"


def test_a_hanging_job_is_abandoned_and_never_blocks_another_even_with_one_worker() -> None:
    release = threading.Event()
    quick_runs: list[int] = []
    scheduler = Scheduler(None, quick(workers=1))
    scheduler.add(Job("hangs", 0.05, lambda: release.wait(30), timeout=0.2))
    scheduler.add(Job("quick", 0.05, lambda: quick_runs.append(1), timeout=1, initial_delay=0.05))
    scheduler.start()
    try:
        # The only worker is stuck in "hangs": after its timeout a replacement serves "quick".
        assert wait_for(lambda: len(quick_runs) >= 3, timeout=5)
        hangs = next(s for s in scheduler.status() if s.name == "hangs")
        assert hangs.timeouts == 1 and hangs.last_status == "timeout"
        assert "did not finish within 0.2 s" in hangs.last_error
        assert hangs.abandoned_running  # still blocked, and never started twice meanwhile
        assert scheduler.stuck() == ["hangs"]
        assert scheduler.pool.abandoned == 1
        release.set()  # the stuck call returns: its thread leaves the pool
        assert wait_for(lambda: scheduler.pool.abandoned == 0)
        assert wait_for(lambda: scheduler.stuck() == [])
    finally:
        release.set()
        scheduler.stop()


def test_a_failing_job_is_recorded_and_the_scheduler_goes_on() -> None:
    calls: list[int] = []

    def boom() -> None:
        calls.append(1)
        raise RuntimeError("target said no")

    scheduler = Scheduler(None, quick())
    scheduler.add(Job("boom", 0.05, boom, timeout=1))
    scheduler.start()
    try:
        assert wait_for(lambda: len(calls) >= 3)
    finally:
        scheduler.stop()
    [status] = scheduler.status()
    assert status.failures >= 3
    assert status.last_error == "RuntimeError: target said no"


def test_a_late_result_of_an_abandoned_task_is_refused_and_on_timeout_runs() -> None:
    release = threading.Event()
    verdicts: list[bool] = []
    timed_out = threading.Event()

    def slow_task() -> None:
        release.wait(5)
        verdicts.append(claim_completion())

    scheduler = Scheduler(None, quick())
    scheduler.start()
    try:
        assert scheduler.submit("task:1", slow_task, 0.1, on_timeout=timed_out.set)
        assert timed_out.wait(3)
        assert not scheduler.submit("task:1", slow_task, 0.1)  # never overlaps itself
        release.set()
        assert wait_for(lambda: verdicts == [False])
        assert wait_for(lambda: scheduler.submit("task:1", lambda: None, 1.0))
    finally:
        release.set()
        scheduler.stop()


@pytest.mark.parametrize(
    ("interval", "timeout", "message"),
    [
        (0, 1, "interval must be positive"),
        (-5, 1, "interval must be positive"),
        (1, 0, "timeout must be positive"),
        (float("nan"), 1, "interval must be positive"),
    ],
)
def test_invalid_schedules_are_refused_with_the_reason(
    interval: float, timeout: float, message: str
) -> None:
    with pytest.raises(ValidationFailed, match=message):
        Job("bad", interval, lambda: None, timeout=timeout)


def test_duplicate_jobs_and_bad_settings_are_clear_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    scheduler = Scheduler(None, quick())
    scheduler.add(Job("once", 1, lambda: None, timeout=1))
    with pytest.raises(Conflict, match="already scheduled"):
        scheduler.add(Job("once", 2, lambda: None, timeout=1))
    with pytest.raises(ValidationFailed, match="job name"):
        Job("", 1, lambda: None, timeout=1)
    monkeypatch.setenv("CITYHUB_SCHEDULER_WORKERS", "0")
    with pytest.raises(ConfigError, match="CITYHUB_SCHEDULER_WORKERS"):
        load_settings()


def test_an_exclusive_job_runs_in_one_process_at_a_time(db: sessionmaker[Session]) -> None:
    """Two schedulers on one database (two processes): the lease lets one run per interval."""
    runs: list[str] = []
    first, second = Scheduler(db, quick()), Scheduler(db, quick())
    for name, scheduler in (("first", first), ("second", second)):
        scheduler.add(Job("nightly", 3600, lambda name=name: runs.append(name), timeout=5))
    first.start()
    second.start()
    try:
        assert wait_for(lambda: len(runs) == 1)
        time.sleep(0.3)  # both looked again: still one run in the hour
        assert len(runs) == 1
        with transaction(db) as session:
            lease = session.scalar(select(JobLease).where(JobLease.job == "nightly"))
            assert lease is not None and lease.runs == 1 and lease.last_status == "ok"
            assert lease.lease_until is None  # released when the run finished
            # The hour has passed: whichever process looks first takes the next run.
            session.execute(update(JobLease).values(next_run_at=utcnow() - timedelta(seconds=1)))
        first._jobs["nightly"].next_due = second._jobs["nightly"].next_due = 0.0
        assert wait_for(lambda: len(runs) == 2)
    finally:
        first.stop()
        second.stop()
    assert len(runs) == 2


def test_the_app_lifespan_starts_and_stops_the_scheduler(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.scheduler_enabled = True
    app = create_app(settings)
    with TestClient(app) as client:
        scheduler = app.state.scheduler
        assert scheduler.running
        body = client.get("/healthz").json()
        assert body["status"] == "ok"
        assert wait_for(lambda: any(j.runs for j in scheduler.status()))
    assert not scheduler.running


def test_the_scheduler_can_be_switched_off(settings: Settings) -> None:
    assert not settings.scheduler_enabled  # the autouse fixture set CITYHUB_SCHEDULER_ENABLED=false
    app = create_app(settings)
    with TestClient(app):
        assert not app.state.scheduler.running
