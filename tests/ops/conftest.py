"""Fixtures of the operations tests: real local servers to probe (HTTP, a silent TCP port,
a closed port), a probe context, and systems to hang probes on.

Apps built here run no background jobs (CITYHUB_SCHEDULER_ENABLED=false) unless a test
starts a scheduler itself: results then appear only when a test makes them.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction
from cityhub.directory.models import Organization
from cityhub.ops import systems
from cityhub.ops.checks import CheckContext
from cityhub.ops.models import MonitoredSystem, Probe
from cityhub.ops.schemas import ProbeCreate, SystemCreate
from cityhub.settings import Settings


@pytest.fixture(autouse=True)
def _no_background_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYHUB_SCHEDULER_ENABLED", "false")
    monkeypatch.setenv("CITYHUB_OPS_SELF_MONITOR", "false")


class _Handler(BaseHTTPRequestHandler):
    release: threading.Event

    def log_message(self, *_args: object) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path == "/hang":
            self.release.wait(30)
            return
        if path == "/slow":
            time.sleep(0.3)
        status = int(path.rsplit("/", 1)[1]) if path.startswith("/status/") else 200
        body = b'{"status": "ok", "service": "test"}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def http_server() -> Iterator[str]:
    """A real HTTP server: /ok, /slow (300 ms), /status/<code>, /hang (never answers)."""
    release = threading.Event()
    handler = type("Handler", (_Handler,), {"release": release})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word (a hung service)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            accepted.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(2)
    for conn in accepted:
        conn.close()
    listener.close()


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def ops_settings(settings: Settings) -> Settings:
    """The test's settings with the operations settings these tests assume."""
    settings.ops_self_monitor = False
    settings.ops_failure_threshold = 3
    settings.ops_metrics_cache_seconds = 0
    return settings


@pytest.fixture
def ctx(db: sessionmaker[Session], ops_settings: Settings) -> CheckContext:
    return CheckContext(factory=db, settings=ops_settings)


MakeSystem = Callable[..., MonitoredSystem]


@pytest.fixture
def make_system(db: sessionmaker[Session], org: Callable[..., Organization]) -> MakeSystem:
    """make_system("APP-X", criticality="critical"): a system owned by a test department."""
    made: set[str] = set()

    def make(
        code: str = "APP-TEST",
        *,
        criticality: str = "high",
        kind: str = "government_app",
        org_code: str = "LYGA",
    ) -> MonitoredSystem:
        if org_code not in made:
            with transaction(db) as session:
                exists = session.query(Organization).filter_by(code=org_code).one_or_none()
            if exists is None:
                org(org_code, f"测试部门 {org_code}")
            made.add(org_code)
        with transaction(db) as session:
            data = SystemCreate.model_validate(
                {
                    "code": code,
                    "name_zh": f"测试系统 {code}",
                    "organization": org_code,
                    "kind": kind,
                    "criticality": criticality,
                }
            )
            return systems.create_system(session, data, "tester")

    return make


MakeProbe = Callable[..., Probe]


@pytest.fixture
def make_probe(db: sessionmaker[Session], ops_settings: Settings) -> MakeProbe:
    """make_probe(system, kind="http", target=..., params=..., interval=..., timeout=...)."""

    def make(system: MonitoredSystem, **body: object) -> Probe:
        body.setdefault("name", f"probe {body.get('kind', 'http')}")
        body.setdefault("kind", "http")
        with transaction(db) as session:
            attached = session.get(MonitoredSystem, system.id)
            assert attached is not None
            data = ProbeCreate.model_validate(body)
            return systems.add_probe(session, attached, data, ops_settings, "tester")

    return make
