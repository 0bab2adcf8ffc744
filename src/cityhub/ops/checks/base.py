"""What every check receives and returns."""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.events import EventBus
from cityhub.core.scheduler import Scheduler
from cityhub.ops.vocab import Outcome, ProbeKind
from cityhub.settings import Settings

MAX_MESSAGE = 500


@dataclass(frozen=True)
class ProbeSpec:
    """A probe as plain values: checks run in worker threads, away from any session."""

    id: int
    system_id: int
    system_code: str
    name: str
    kind: ProbeKind
    target: str
    params: dict[str, Any] = field(default_factory=dict)
    interval_seconds: int = 60
    timeout_seconds: float = 10.0
    failure_threshold: int = 3


@dataclass(frozen=True)
class CheckResult:
    outcome: Outcome
    latency_ms: float | None
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", self.message[:MAX_MESSAGE])


@dataclass
class CheckContext:
    """What checks and the runner use: the platform database, settings, the scheduler, and
    the event bus that hears of recorded results after they commit."""

    factory: sessionmaker[Session]
    settings: Settings
    scheduler: Scheduler | None = None
    bus: EventBus | None = None


def elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def connect_reason(exc: BaseException, where: str) -> str:
    """Why a connection to `where` failed, in plain words, from anywhere in the cause chain."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return f"cannot resolve host of {where}: {seen.strerror or seen}"
        if isinstance(seen, ConnectionRefusedError):
            return f"connection refused by {where}"
        if isinstance(seen, ssl.SSLError):
            return f"TLS error with {where}: {seen.reason or seen}"
        if isinstance(seen, TimeoutError | socket.timeout):
            return f"no connection to {where} in time"
        seen = seen.__cause__ or seen.__context__
    return f"cannot connect to {where}: {exc}"
