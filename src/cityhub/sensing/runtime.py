"""The sensing layer's background work in one process: the upkeep loop, the MQTT ingester
(when CITYHUB_MQTT_URL is set) and, in demo mode, the simulated devices.

The web server runs it in its lifespan; `cityhub sensing ingest` runs it on its own.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.events import EventBus
from cityhub.sensing.maintenance import Schedule
from cityhub.settings import Settings

if TYPE_CHECKING:
    from cityhub.sensing.mqtt import MqttIngester
    from cityhub.sensing.simulate import Simulator

log = logging.getLogger("cityhub.sensing")


class SensingRuntime:
    def __init__(
        self, settings: Settings, factory: sessionmaker[Session], bus: EventBus | None = None
    ) -> None:
        self.settings = settings
        self.factory = factory
        self.bus = bus
        self.ingester: MqttIngester | None = None
        self.simulator: Simulator | None = None
        self._stop = threading.Event()
        self._upkeep: threading.Thread | None = None
        self.schedule = Schedule(factory, settings, bus)

    def start(self, *, upkeep_every: float | None = None, mqtt: bool | None = None) -> None:
        every = self.settings.sensing_maintenance_seconds if upkeep_every is None else upkeep_every
        if every > 0:
            self._upkeep = threading.Thread(
                target=self._loop, args=(every,), name="sensing-upkeep", daemon=True
            )
            self._upkeep.start()
        if mqtt if mqtt is not None else bool(self.settings.mqtt_url):
            from cityhub.sensing.mqtt import MqttIngester

            self.ingester = MqttIngester(self.settings, self.factory, bus=self.bus)
            self.ingester.start(wait=0)

    def _loop(self, every: float) -> None:
        # The first pass waits one interval: a server that starts and stops at once (tests,
        # health checks) does no upkeep, and start-up stays fast.
        while not self._stop.wait(every):
            self.schedule.tick()

    def start_simulator(self, simulator: Simulator) -> None:
        self.simulator = simulator
        simulator.start()

    def stop(self) -> None:
        self._stop.set()
        if self.simulator is not None:
            self.simulator.stop()
        if self.ingester is not None:
            self.ingester.stop()
        if self._upkeep is not None:
            self._upkeep.join(timeout=30)
