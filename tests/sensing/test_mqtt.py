"""MQTT ingestion against a real Mosquitto: QoS 1, persistent sessions, shared
subscriptions, bad messages, and restarts of the ingester and of the broker.

Switched on by CITYHUB_TEST_MQTT_URL (CI: mqtt://127.0.0.1:1883). The restart test runs
its own broker (/usr/sbin/mosquitto) on a free port so the shared one is never restarted.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cityhub.sensing.models import Rejection, TelemetryPoint
from cityhub.sensing.mqtt import MqttIngester, make_client, parse_url, topic
from cityhub.settings import Settings

from .helpers import now_ms, register

MQTT_URL = os.environ.get("CITYHUB_TEST_MQTT_URL", "")
MOSQUITTO = Path("/usr/sbin/mosquitto")
pytestmark = pytest.mark.skipif(
    not MQTT_URL, reason="set CITYHUB_TEST_MQTT_URL=mqtt://127.0.0.1:1883 to test against Mosquitto"
)
ORG = "LYZHYY"  # the operator fixture's organization


def _stored(db: sessionmaker[Session]) -> int:
    with db() as session:
        return session.scalar(select(func.count()).select_from(TelemetryPoint)) or 0


def _wait(condition: Callable[[], bool], seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


class Publisher:
    """A device-side client publishing QoS 1 and waiting for the broker's acknowledgements."""

    def __init__(self, url: str) -> None:
        broker = parse_url(url)
        self.client = make_client(broker, f"test-pub-{uuid.uuid4().hex[:8]}")
        self.client.max_inflight_messages_set(100)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def send(self, device: str, body: object, kind: str = "telemetry") -> mqtt.MQTTMessageInfo:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.client.publish(topic(ORG, device, kind), raw, qos=1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def ingesters(
    settings: Settings, db: sessionmaker[Session]
) -> Iterator[Callable[..., MqttIngester]]:
    """Ingesters with a share group of this test only; their sessions are ended afterwards."""
    group = f"t{uuid.uuid4().hex[:8]}"
    made: list[MqttIngester] = []

    def make(client_id: str | None = None, url: str = MQTT_URL) -> MqttIngester:
        ingester = MqttIngester(
            settings,
            db,
            client_id=client_id or f"test-ing-{uuid.uuid4().hex[:8]}",
            url=url,
            group=group,
        )
        made.append(ingester)
        return ingester

    yield make
    for ingester in made:
        with contextlib.suppress(OSError):  # its broker may be gone (the restart test's own)
            ingester.end_session()


def _readings(device_index: int, k: int, t: int) -> dict[str, object]:
    return {"ts": t - k * 1000, "values": {"pm25": float(device_index * 100 + k)}}


def test_telemetry_and_status_over_mqtt_and_bad_messages_never_stop_it(
    client: TestClient,
    operator: dict[str, str],
    db: sessionmaker[Session],
    ingesters: Callable[..., MqttIngester],
) -> None:
    register(client, operator, "MQ-1")
    ingester = ingesters()
    ingester.start()
    assert ingester.connected.is_set()
    pub = Publisher(MQTT_URL)
    t = now_ms()
    pub.send("MQ-1", b"{broken")
    pub.send("MQ-1", {"values": {"pm25": -1}})
    pub.send("NOPE-9", {"values": {"pm25": 1}})
    for k in range(20):
        pub.send("MQ-1", _readings(1, k, t))
    pub.send("MQ-1", {"state": "fault", "code": "E7"}, kind="status")
    assert _wait(lambda: _stored(db) == 20), (ingester.received, ingester.failures)
    assert _wait(lambda: ingester.stored_messages == 24)
    pub.close()
    ingester.stop()
    with db() as session:
        counts = {(r.device_ref, r.reason): r.count for r in session.scalars(select(Rejection))}
    assert counts == {
        ("MQ-1", "malformed"): 1,
        ("MQ-1", "out_of_range"): 1,
        (f"{ORG}/NOPE-9", "unknown_device"): 1,
    }
    device = client.get("/api/v1/devices/MQ-1", headers=operator).json()
    assert device["status"] == "fault" and device["fault_code"] == "E7"


def test_nothing_is_lost_while_the_ingester_is_away(
    client: TestClient,
    operator: dict[str, str],
    db: sessionmaker[Session],
    ingesters: Callable[..., MqttIngester],
) -> None:
    register(client, operator, "MQ-2")
    client_id = f"test-ing-{uuid.uuid4().hex[:8]}"
    first = ingesters(client_id)
    first.start()
    first.stop()  # gone; the broker keeps its persistent session and queues for it
    pub = Publisher(MQTT_URL)
    t = now_ms()
    infos = [pub.send("MQ-2", _readings(2, k, t)) for k in range(50)]
    for info in infos:
        info.wait_for_publish(10)  # the broker accepted every message
    pub.close()
    assert _stored(db) == 0
    again = ingesters(client_id)
    again.start()
    assert _wait(lambda: _stored(db) == 50)
    again.stop()


def test_two_ingesters_share_the_load_nothing_lost_nothing_twice(
    client: TestClient,
    operator: dict[str, str],
    db: sessionmaker[Session],
    ingesters: Callable[..., MqttIngester],
) -> None:
    devices = [f"MQ-S{i}" for i in range(8)]
    for code in devices:
        register(client, operator, code)
    a, b = ingesters(), ingesters()
    a.start()
    b.start()
    pub = Publisher(MQTT_URL)
    t = now_ms()
    total = 0
    for k in range(50):
        for i, code in enumerate(devices):
            pub.send(code, _readings(i, k, t))
            total += 1
    assert _wait(lambda: _stored(db) == total, 30)
    time.sleep(0.3)
    pub.close()
    a.stop()
    b.stop()
    assert a.received > 0 and b.received > 0  # both took a share
    assert a.received + b.received == total  # each message reached exactly one of them
    assert _stored(db) == total
    with db() as session:
        assert session.scalar(select(func.count()).select_from(Rejection)) == 0  # no duplicates


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class OwnBroker:
    """A private Mosquitto with persistence, which this test may stop and start again."""

    def __init__(self, folder: Path) -> None:
        self.port = _free_port()
        self.folder = folder
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {folder}/\nmax_queued_messages 0\n"
            # Started as root, mosquitto would switch to its own user, who cannot write here.
            "user root\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = (self.folder / "mosquitto.log").open("ab")
        self.proc = subprocess.Popen([str(MOSQUITTO), "-c", str(self.conf)], stdout=log, stderr=log)
        assert _wait(self._listening, 10), "mosquitto did not start"

    def _listening(self) -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()  # mosquitto writes its persistence file on the way out
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[OwnBroker]:
    if not MOSQUITTO.exists() or shutil.which(str(MOSQUITTO)) is None:
        pytest.skip("/usr/sbin/mosquitto is not installed (apt install mosquitto)")
    broker = OwnBroker(tmp_path)
    broker.start()
    yield broker
    broker.stop()


def test_restarting_the_ingester_and_the_broker_loses_nothing(
    client: TestClient,
    operator: dict[str, str],
    db: sessionmaker[Session],
    ingesters: Callable[..., MqttIngester],
    own_broker: OwnBroker,
) -> None:
    register(client, operator, "MQ-R")
    t = now_ms()
    client_id = f"test-ing-{uuid.uuid4().hex[:8]}"
    ingester = ingesters(client_id, own_broker.url)
    ingester.start()

    def publish(first: int, count: int) -> None:
        pub = Publisher(own_broker.url)
        for info in [pub.send("MQ-R", _readings(7, k, t)) for k in range(first, first + count)]:
            info.wait_for_publish(10)
        pub.close()

    publish(0, 30)
    assert _wait(lambda: _stored(db) == 30)
    ingester.kill()  # a crash: no goodbye to the broker
    publish(30, 30)  # queued by the broker for the absent ingester's session
    own_broker.stop()
    own_broker.start()  # the queue survives in the broker's persistence file
    ingester = ingesters(client_id, own_broker.url)
    ingester.start()
    assert _wait(lambda: _stored(db) == 60), _stored(db)
    own_broker.stop()  # the broker goes away under a running ingester ...
    own_broker.start()
    assert _wait(ingester.connected.is_set, 20)  # ... which reconnects by itself
    publish(60, 30)
    assert _wait(lambda: _stored(db) == 90), _stored(db)
    ingester.stop()
    with db() as session:
        values = session.scalars(select(TelemetryPoint.value)).all()
    assert sorted(values) == [700.0 + k for k in range(90)]  # each exactly once
