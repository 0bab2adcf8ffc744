"""The sensing layer's background work in one process.

- The periodic upkeep is a set of jobs on the shared scheduler (core/scheduler.py): rollups
  (with the partitions ahead of them), online status and no-data alarms, webhook
  deliveries, retention. Exclusive jobs: across processes sharing the database each runs
  once per interval.
- The MQTT ingester (when CITYHUB_MQTT_URL is set) is a connection, not a periodic job: it
  keeps its own network and writer threads.
- In demo mode, the simulated devices.

The web server runs it from the sensing router's lifespan; `cityhub sensing ingest` runs
the ingester with a scheduler of its own.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction, utcnow
from cityhub.core.events import EventBus, attach
from cityhub.core.scheduler import Job, Scheduler, scheduler_of
from cityhub.sensing import alarms, rollups, webhooks
from cityhub.sensing.maintenance import (
    apply_retention,
    drop_old_partitions,
    ensure_partitions,
    mark_offline,
)
from cityhub.settings import Settings

if TYPE_CHECKING:
    from cityhub.sensing.mqtt import MqttIngester
    from cityhub.sensing.simulate import Simulator

log = logging.getLogger("cityhub.sensing")
RETENTION_SECONDS = 600.0  # deleting old data is heavy and never urgent
JOB_TIMEOUT = 600.0


def jobs(
    settings: Settings, factory: sessionmaker[Session], bus: EventBus | None = None
) -> list[Job]:
    """The upkeep jobs, every CITYHUB_SENSING_MAINTENANCE_SECONDS (none when it is 0). The
    first run waits one interval: a process that starts and stops at once does no upkeep."""
    every = settings.sensing_maintenance_seconds
    if every <= 0:
        return []

    def rollup() -> int:
        ensure_partitions(factory.kw["bind"], settings)
        return rollups.refresh_all(factory)

    def status() -> tuple[int, int]:
        now = utcnow()
        with transaction(factory) as session:
            if bus is not None:
                attach(session, bus)
            return mark_offline(session, now), alarms.sweep_no_data(session, now)

    def deliver() -> int:
        return webhooks.deliver_due(
            factory, settings, max_attempts=settings.sensing_webhook_max_attempts
        )

    def retention() -> dict[str, int]:
        now = utcnow()
        with transaction(factory) as session:
            removed = apply_retention(session, now)
        drop_old_partitions(factory, now)  # after the commit: see drop_old_partitions
        return removed

    return [
        Job("sensing.rollups", every, rollup, JOB_TIMEOUT, initial_delay=every),
        Job("sensing.status", every, status, JOB_TIMEOUT, initial_delay=every),
        Job("sensing.webhooks", every, deliver, JOB_TIMEOUT, initial_delay=every),
        Job(
            "sensing.retention",
            max(every, RETENTION_SECONDS),
            retention,
            JOB_TIMEOUT,
            initial_delay=every,
        ),
    ]


def add_jobs(scheduler: Scheduler, found: list[Job]) -> None:
    for job in found:
        if not scheduler.has_job(job.name):
            scheduler.add(job)


def install(app: Any) -> None:
    """Put the upkeep jobs on the app's scheduler (started by the app's lifespan)."""
    settings: Settings = app.state.settings
    add_jobs(scheduler_of(app), jobs(settings, app.state.sessions, app.state.bus))


class SensingRuntime:
    """The MQTT ingester and the simulators of a process; start() / stop()."""

    def __init__(
        self, settings: Settings, factory: sessionmaker[Session], bus: EventBus | None = None
    ) -> None:
        self.settings = settings
        self.factory = factory
        self.bus = bus
        self.ingester: MqttIngester | None = None
        self.simulator: Simulator | None = None

    def start(self, *, mqtt: bool | None = None) -> None:
        if mqtt if mqtt is not None else bool(self.settings.mqtt_url):
            from cityhub.sensing.mqtt import MqttIngester

            self.ingester = MqttIngester(self.settings, self.factory, bus=self.bus)
            self.ingester.start(wait=0)

    def start_simulator(self, simulator: Simulator) -> None:
        self.simulator = simulator
        simulator.start()

    def stop(self) -> None:
        if self.simulator is not None:
            self.simulator.stop()
        if self.ingester is not None:
            self.ingester.stop()
