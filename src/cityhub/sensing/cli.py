"""`cityhub sensing ...`: run the ingester, the upkeep, the simulators; import devices."""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.console import console_settings, one_line_errors
from cityhub.core.db import check_connection, make_engine, session_factory, transaction
from cityhub.core.events import EventBus
from cityhub.core.migrations import upgrade
from cityhub.errors import ConfigError, NotFound
from cityhub.security.service import get_user
from cityhub.settings import Settings


@click.group()
def sensing() -> None:
    """Sensing layer (感知层): devices, telemetry, alarms."""


def _factory() -> tuple[Settings, Engine, sessionmaker[Session]]:
    settings = console_settings()
    settings.check_secrets()
    engine = make_engine(settings.effective_database_url)
    check_connection(engine)
    upgrade(engine)
    return settings, engine, session_factory(engine)


@sensing.command()
@click.option("--client-id", default=None, help="MQTT client id (CITYHUB_MQTT_CLIENT_ID).")
@click.option("--mqtt-url", default=None, help="Broker URL (CITYHUB_MQTT_URL).")
@click.option("--upkeep/--no-upkeep", default=True, show_default=True, help="Also run the upkeep.")
@one_line_errors
def ingest(client_id: str | None, mqtt_url: str | None, upkeep: bool) -> None:
    """Take in MQTT telemetry until stopped (Ctrl+C or SIGTERM)."""
    from cityhub.core.scheduler import Scheduler
    from cityhub.sensing.mqtt import MqttIngester
    from cityhub.sensing.runtime import add_jobs, jobs

    settings, engine, factory = _factory()
    url = mqtt_url or settings.mqtt_url
    if not url:
        raise ConfigError("no MQTT broker: set CITYHUB_MQTT_URL or pass --mqtt-url")
    bus = EventBus()
    scheduler = Scheduler(factory, settings, name="cityhub-sensing")
    if upkeep:  # the same jobs as in the server; leases keep them once per interval
        every = settings.sensing_maintenance_seconds or 15.0
        add_jobs(
            scheduler,
            jobs(settings.model_copy(update={"sensing_maintenance_seconds": every}), factory, bus),
        )
        scheduler.start()
    ingester = MqttIngester(settings, factory, bus=bus, client_id=client_id, url=url)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    ingester.start(wait=0)
    where = f"{ingester.broker.host}:{ingester.broker.port}"
    click.echo(f"cityhub: ingesting from {where} as {ingester.client_id}")
    try:
        while not stop.wait(1):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        ingester.stop()
        scheduler.stop()
        engine.dispose()
        click.echo(f"cityhub: stopped after {ingester.stored_messages} messages")


@sensing.command()
@one_line_errors
def upkeep() -> None:
    """Run one upkeep pass now: rollups, offline devices, no-data alarms, webhooks, retention."""
    from cityhub.sensing.maintenance import run_once

    settings, engine, factory = _factory()
    try:
        done = run_once(factory, settings)
    finally:
        engine.dispose()
    click.echo(json.dumps(done.__dict__, ensure_ascii=False))


@sensing.command("import")
@click.argument("csv_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--as", "username", required=True, help="User registering the devices.")
@one_line_errors
def import_devices(csv_file: Path, username: str) -> None:
    """Register devices from a CSV file; prints the tokens of new devices once."""
    from cityhub.sensing.csv_import import import_csv

    if not csv_file.is_file():
        raise NotFound(f"no file {csv_file}")
    settings, engine, factory = _factory()
    try:
        with transaction(factory) as session:
            result = import_csv(
                session, settings, csv_file.read_bytes(), get_user(session, username)
            )
    finally:
        engine.dispose()
    for device in result.created:
        click.echo(f"{device.code}\t{device.token}")
    for err in result.errors:
        click.echo(
            f"line {err.row}: {err.code}: {err.field + ': ' if err.field else ''}{err.message}",
            err=True,
        )
    click.echo(f"cityhub: {len(result.created)} registered, {len(result.errors)} refused", err=True)


@sensing.command()
@click.option("--seconds", type=float, default=0, help="Stop after this long (0: until Ctrl+C).")
@click.option("--tick", type=float, default=5.0, show_default=True, help="Seconds between sends.")
@one_line_errors
def simulate(seconds: float, tick: float) -> None:
    """Run the demo's simulated devices (over MQTT when CITYHUB_MQTT_URL is set)."""
    from cityhub.sensing.simulate import Simulator, load, mqtt_publisher

    settings, engine, factory = _factory()
    devices = load(factory, settings)
    if not devices:
        raise ConfigError("no simulated devices: build the demo first (cityhub demo --no-serve)")
    publish = close = None
    if settings.mqtt_url:
        publish, close = mqtt_publisher(settings)
    sim = Simulator(settings, factory, devices, tick_s=tick, publish=publish, close=close)
    sim.start()
    click.echo(f"cityhub: {len(devices)} simulated devices running")
    deadline = time.monotonic() + seconds if seconds else None
    try:
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
        engine.dispose()
    click.echo(f"cityhub: {sim.sent} messages sent")
