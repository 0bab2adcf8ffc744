"""The demo's operations: the guideline's 15 applications and the departments' systems
monitored on simulated endpoints, plans and projects; built once, reused on re-runs; and,
with a real server, incidents opening and resolving on their own."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import uvicorn
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cityhub.app import create_app
from cityhub.core.db import transaction
from cityhub.demo import build_demo
from cityhub.demo.ops import APPLICATIONS, DEPARTMENT_SYSTEMS
from cityhub.ops.models import Incident, MonitoredSystem, Plan, Probe, Project
from cityhub.settings import Settings

GUIDELINE_APPS = [
    "智慧交通", "智慧办事", "智慧社区", "智慧教育", "智慧食安",
    "智慧城管", "智慧平安", "智慧环保", "智慧国土", "智慧应急",
    "智慧物流", "智慧农业", "智慧旅游", "智慧制造", "智慧能源",
]  # fmt: skip


def counts(db: sessionmaker[Session]) -> dict[str, int]:
    with transaction(db) as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (MonitoredSystem, Probe, Plan, Project)
        }


def test_the_demo_monitors_the_city_and_is_reusable(
    settings: Settings, db: sessionmaker[Session]
) -> None:
    build_demo(settings, seed=20201228, population=0)
    with transaction(db) as session:
        apps = session.scalars(
            select(MonitoredSystem)
            .where(MonitoredSystem.code.like("APP-%"), MonitoredSystem.code.not_in(["APP-ZHTC"]))
            .order_by(MonitoredSystem.id)
        ).all()
        assert [a.name_zh for a in apps] == GUIDELINE_APPS
        assert {a.kind for a in apps[:5]} == {"livelihood_app"}
        assert {a.kind for a in apps[5:10]} == {"government_app"}
        assert {a.kind for a in apps[10:]} == {"industry_app"}
        targets = list(session.scalars(select(Probe.target).where(Probe.kind == "http")))
        flaky = [t for t in targets if "mode=flaky" in t]
        assert len(flaky) == 4 and any("mode=hang" in t for t in targets)
        assert all(t.startswith("/") for t in targets)  # answered by the demo server itself
        platform = session.scalar(select(MonitoredSystem).where(MonitoredSystem.code == "cityhub"))
        assert platform is not None and len(platform.probes) == 6
        statuses = dict(session.execute(select(Project.code, Project.status)).all())
        assert statuses == {
            "XM-2026-001": "accepted",
            "XM-2026-002": "implementing",
            "XM-2026-003": "approved",
            "XM-2026-004": "requirement",
        }
        joined = session.scalar(select(MonitoredSystem).where(MonitoredSystem.code == "APP-ZHTC"))
        assert joined is not None  # the accepted project's system joined monitoring
    first = counts(db)
    assert first["ops_systems"] == len(APPLICATIONS) + len(DEPARTMENT_SYSTEMS) + 5
    assert first["ops_plans"] == 4
    build_demo(settings, seed=20201228, population=0)
    assert counts(db) == first  # nothing added twice


def test_simulated_endpoints_follow_their_pattern_in_demo_mode_only(
    settings: Settings,
) -> None:
    minute = int(time.time() // 60)
    down_now = (-minute) % 10  # (minute + phase) % 10 == 0: in the down window
    up_now = (5 - minute) % 10  # == 5: outside a 2-minute window
    with TestClient(create_app(settings)) as client:
        base = "/demo/endpoints/APP-X?mode=flaky&period=10&down=2"
        assert client.get(f"{base}&phase={down_now}").status_code == 503
        assert client.get(f"{base}&phase={up_now}").json() == {"status": "ok", "system": "APP-X"}
        assert client.get("/demo/endpoints/APP-X").status_code == 200
        assert client.get("/demo/endpoints/APP-X?mode=boom").status_code == 422
    normal = settings.model_copy(
        update={"demo_mode": False, "secret_key": SecretStr("a-real-secret-1")}
    )
    with TestClient(create_app(normal)) as client:
        assert client.get("/demo/endpoints/APP-X").status_code == 404


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server(settings: Settings) -> Iterator[str]:
    """The real server with its scheduler on and quick probe rounds."""
    port = _free_port()
    update = {"port": port, "scheduler_enabled": True, "ops_dispatch_seconds": 0.2}
    live = settings.model_copy(update=update)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(live), host="127.0.0.1", port=port, log_config=None, access_log=False
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_incidents_open_and_resolve_on_their_own(
    live_server: str,
    db: sessionmaker[Session],
    make_system: Callable[..., MonitoredSystem],
    make_probe: Callable[..., Probe],
) -> None:
    """A demo endpoint goes down: the scheduler's probe opens an incident after two
    failures; it comes back: the incident is resolved, nobody touching anything."""
    minute = int(time.time() // 60)
    system = make_system("APP-FLAKY", criticality="critical")
    down = f"/demo/endpoints/APP-FLAKY?mode=flaky&period=1000&down=999&phase={-minute % 1000}"
    probe = make_probe(system, target=down, interval="1s", timeout="0.8s", failure_threshold=2)

    def incident_status() -> str | None:
        with transaction(db) as session:
            return session.scalar(select(Incident.status).where(Incident.probe_id == probe.id))

    assert wait_for(lambda: incident_status() == "opened")
    with transaction(db) as session:
        row = session.get(Probe, probe.id)
        assert row is not None and row.consecutive_failures >= 2
        row.target = "/demo/endpoints/APP-FLAKY"  # the system recovers
    assert wait_for(lambda: incident_status() == "resolved")
    with transaction(db) as session:
        status = session.scalar(
            select(MonitoredSystem.status).where(MonitoredSystem.id == system.id)
        )
    assert status == "up"
