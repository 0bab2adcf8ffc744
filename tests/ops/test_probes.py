"""Probes against real local servers: HTTP, TCP, databases, MQTT; hanging targets,
unresolvable hosts and refused connections all end in a clear failed result, in time."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from cityhub.ops.checks import CheckContext, ProbeSpec, run_check
from cityhub.ops.vocab import Outcome, ProbeKind
from cityhub.settings import Settings

PG_URL = os.environ.get("CITYHUB_TEST_DATABASE_URL", "")
MQTT_URL = os.environ.get("CITYHUB_TEST_MQTT_URL", "")
needs_pg = pytest.mark.skipif(
    not PG_URL, reason="set CITYHUB_TEST_DATABASE_URL to probe a real PostgreSQL"
)
needs_mqtt = pytest.mark.skipif(
    not MQTT_URL, reason="set CITYHUB_TEST_MQTT_URL (e.g. mqtt://127.0.0.1:1883) to probe Mosquitto"
)
UNRESOLVABLE = "no-such-host.invalid"  # RFC 6761: never resolves


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[CheckContext]:
    """These checks need no platform tables: an in-memory database keeps them quick."""
    engine = create_engine("sqlite://")
    yield CheckContext(
        factory=sessionmaker(engine),
        settings=Settings(data_dir=tmp_path, demo_mode=True, ops_self_monitor=False),
    )
    engine.dispose()


def spec(kind: ProbeKind, target: str, timeout: float = 2.0, **params: object) -> ProbeSpec:
    return ProbeSpec(
        id=1,
        system_id=1,
        system_code="T",
        name="t",
        kind=kind,
        target=target,
        params=dict(params),
        timeout_seconds=timeout,
    )


# -- HTTP -------------------------------------------------------------------------------------


def test_http_up_with_expected_text(ctx: CheckContext, http_server: str) -> None:
    result = run_check(ctx, spec(ProbeKind.http, f"{http_server}/ok", expected_text='"ok"'))
    assert result.outcome == Outcome.up
    assert result.message.startswith("HTTP 200 in")
    assert result.latency_ms is not None and result.latency_ms < 2000


def test_http_wrong_status_and_missing_text_fail(ctx: CheckContext, http_server: str) -> None:
    result = run_check(ctx, spec(ProbeKind.http, f"{http_server}/status/503"))
    assert result.outcome == Outcome.down
    assert "HTTP 503 (expected 200-399)" in result.message
    result = run_check(
        ctx, spec(ProbeKind.http, f"{http_server}/status/404", expected_status=[200, 404])
    )
    assert result.outcome == Outcome.up
    result = run_check(ctx, spec(ProbeKind.http, f"{http_server}/ok", expected_text="welcome"))
    assert result.outcome == Outcome.down
    assert "lacks 'welcome'" in result.message


def test_http_slower_than_asked_is_degraded(ctx: CheckContext, http_server: str) -> None:
    result = run_check(ctx, spec(ProbeKind.http, f"{http_server}/slow", max_latency_ms=100))
    assert result.outcome == Outcome.degraded
    assert "slower than 100 ms" in result.message


def test_http_hanging_target_times_out_in_time(ctx: CheckContext, http_server: str) -> None:
    started = time.monotonic()
    result = run_check(ctx, spec(ProbeKind.http, f"{http_server}/hang", timeout=0.5))
    assert time.monotonic() - started < 2.0
    assert result.outcome == Outcome.down
    assert "timed out after 0.5s" in result.message


def test_http_unresolvable_host_and_refused_port(ctx: CheckContext, closed_port: int) -> None:
    result = run_check(ctx, spec(ProbeKind.http, f"http://{UNRESOLVABLE}/"))
    assert result.outcome == Outcome.down
    assert "cannot resolve host" in result.message
    result = run_check(ctx, spec(ProbeKind.http, f"http://127.0.0.1:{closed_port}/"))
    assert result.outcome == Outcome.down
    assert "connection refused" in result.message


def test_http_path_targets_resolve_against_the_platform(
    ctx: CheckContext, http_server: str
) -> None:
    ctx.settings = ctx.settings.model_copy(update={"ops_base_url": http_server})
    assert run_check(ctx, spec(ProbeKind.http, "/ok")).outcome == Outcome.up


# -- TCP ---------------------------------------------------------------------------------------


def test_tcp_open_refused_and_unresolvable(
    ctx: CheckContext, silent_port: int, closed_port: int
) -> None:
    result = run_check(ctx, spec(ProbeKind.tcp, f"127.0.0.1:{silent_port}"))
    assert result.outcome == Outcome.up and f"port {silent_port} open" in result.message
    result = run_check(ctx, spec(ProbeKind.tcp, f"127.0.0.1:{closed_port}"))
    assert result.outcome == Outcome.down and "connection refused" in result.message
    result = run_check(ctx, spec(ProbeKind.tcp, f"{UNRESOLVABLE}:80"))
    assert result.outcome == Outcome.down and "cannot resolve host" in result.message


# -- databases -----------------------------------------------------------------------------------


def test_sqlite_query_expected_value_and_missing_file(ctx: CheckContext, tmp_path: Path) -> None:
    path = tmp_path / "dept.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (n INTEGER)")
        conn.execute("INSERT INTO t VALUES (42)")
    url = f"sqlite:///{path}"
    result = run_check(ctx, spec(ProbeKind.database, url, query="SELECT n FROM t", expected="42"))
    assert result.outcome == Outcome.up
    result = run_check(ctx, spec(ProbeKind.database, url, query="SELECT n FROM t", expected="7"))
    assert result.outcome == Outcome.down
    assert "returned '42', expected '7'" in result.message
    result = run_check(ctx, spec(ProbeKind.database, f"sqlite:///{tmp_path}/none.db"))
    assert result.outcome == Outcome.down and "does not exist" in result.message
    assert not (tmp_path / "none.db").exists()  # a probe never creates a database


def test_sqlite_query_running_too_long_is_interrupted(ctx: CheckContext, tmp_path: Path) -> None:
    path = tmp_path / "big.db"
    sqlite3.connect(path).close()
    endless = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
    )
    started = time.monotonic()
    result = run_check(ctx, spec(ProbeKind.database, f"sqlite:///{path}", 0.3, query=endless))
    assert time.monotonic() - started < 3
    assert result.outcome == Outcome.down and "ran longer than 0.3s" in result.message


@needs_pg
def test_postgresql_query_timeout_and_unresolvable_host(ctx: CheckContext) -> None:
    result = run_check(ctx, spec(ProbeKind.database, PG_URL, query="SELECT 1", expected="1"))
    assert result.outcome == Outcome.up, result.message
    started = time.monotonic()
    result = run_check(ctx, spec(ProbeKind.database, PG_URL, 0.5, query="SELECT pg_sleep(10)"))
    assert time.monotonic() - started < 5
    assert result.outcome == Outcome.down and "ran longer than 0.5s" in result.message
    bad = f"postgresql://probe@{UNRESOLVABLE}:5432/x"
    result = run_check(ctx, spec(ProbeKind.database, bad, 2.0))
    assert result.outcome == Outcome.down
    assert UNRESOLVABLE in result.message or "translate host" in result.message


@needs_pg
def test_postgresql_probe_runs_read_only(ctx: CheckContext) -> None:
    result = run_check(
        ctx,
        spec(ProbeKind.database, PG_URL, query="SELECT nextval('no_such_sequence_for_probe')"),
    )
    assert result.outcome == Outcome.down  # the query fails; nothing is written


# -- MQTT --------------------------------------------------------------------------------------


@needs_mqtt
def test_mqtt_broker_answers(ctx: CheckContext) -> None:
    result = run_check(ctx, spec(ProbeKind.mqtt, MQTT_URL))
    assert result.outcome == Outcome.up, result.message
    assert "answered in" in result.message


def test_mqtt_silent_refused_and_unresolvable(
    ctx: CheckContext, silent_port: int, closed_port: int
) -> None:
    started = time.monotonic()
    result = run_check(ctx, spec(ProbeKind.mqtt, f"mqtt://127.0.0.1:{silent_port}", 0.5))
    assert time.monotonic() - started < 3
    assert result.outcome == Outcome.down and "no CONNACK within 0.5s" in result.message
    result = run_check(ctx, spec(ProbeKind.mqtt, f"mqtt://127.0.0.1:{closed_port}"))
    assert result.outcome == Outcome.down and "connection refused" in result.message
    result = run_check(ctx, spec(ProbeKind.mqtt, f"mqtt://{UNRESOLVABLE}:1883"))
    assert result.outcome == Outcome.down and "cannot resolve host" in result.message


# -- the platform's own parts ----------------------------------------------------------------


def test_platform_parts(ctx: CheckContext) -> None:
    assert run_check(ctx, spec(ProbeKind.platform, "database")).outcome == Outcome.up
    bus = run_check(ctx, spec(ProbeKind.platform, "bus"))
    assert bus.outcome == Outcome.up and "in-process" in bus.message
    broker = run_check(ctx, spec(ProbeKind.platform, "broker"))
    assert broker.outcome == Outcome.skipped and "CITYHUB_MQTT_URL" in broker.message
    scheduler = run_check(ctx, spec(ProbeKind.platform, "scheduler"))
    assert scheduler.outcome == Outcome.skipped
    disk = run_check(ctx, spec(ProbeKind.platform, "disk"))
    assert disk.outcome in (Outcome.up, Outcome.degraded) and "% free" in disk.message
    full = run_check(ctx, spec(ProbeKind.platform, "disk", min_free_percent=100))
    assert full.outcome == Outcome.down and "below 100%" in full.message


def test_an_unexpected_error_in_a_check_is_a_failed_run(
    ctx: CheckContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cityhub.ops import checks

    def broken(_ctx: CheckContext, _spec: ProbeSpec) -> checks.CheckResult:
        raise KeyError("surprise")

    monkeypatch.setitem(checks.CHECKS, ProbeKind.tcp, broken)
    result = run_check(ctx, spec(ProbeKind.tcp, "127.0.0.1:1"))
    assert result.outcome == Outcome.down
    assert result.message == "probe error: KeyError: 'surprise'"
