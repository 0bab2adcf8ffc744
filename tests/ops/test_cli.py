"""`cityhub ops ...`: systems, running a probe, incidents, SLA, self-monitoring; one clear
line for every mistake."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cityhub.cli import main
from cityhub.ops.models import MonitoredSystem, Probe
from cityhub.settings import Settings


@pytest.fixture
def run(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Result]:
    for name in ("CITYHUB_DATABASE_URL", "CITYHUB_SECRET_KEY", "CITYHUB_DEMO_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    env = {
        "CITYHUB_DATABASE_URL": settings.effective_database_url,
        "CITYHUB_DATA_DIR": str(tmp_path / "data"),
        "CITYHUB_LOG_LEVEL": "WARNING",
        "CITYHUB_DEMO_MODE": "true",
    }

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), env=env)

    return invoke


def one_line_error(result: Result, expected: str) -> None:
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("cityhub: error: "), result.output
    assert expected in lines[0], lines[0]


def test_console_commands(
    run: Callable[..., Result],
    make_system: Callable[..., MonitoredSystem],
    make_probe: Callable[..., Probe],
    http_server: str,
) -> None:
    system = make_system("APP-ZHJT", criticality="critical")
    probe = make_probe(system, target=f"{http_server}/status/503")
    result = run("ops", "run", str(probe.id))
    assert result.exit_code == 0, result.output
    assert f"cityhub: probe {probe.id} down" in result.output and "HTTP 503" in result.output
    listed = run("ops", "systems")
    assert "APP-ZHJT" in listed.output and " down " in listed.output
    sla = run("ops", "sla")
    assert sla.exit_code == 0 and "APP-ZHJT" in sla.output and "target 99.9%" in sla.output
    assert "cityhub: 0 incidents" in run("ops", "incidents").output
    monitored = run("ops", "self-monitor")
    assert monitored.exit_code == 0 and "monitored as system cityhub" in monitored.output
    assert "cityhub " in run("ops", "systems").output


def test_every_setting_is_described(run: Callable[..., Result]) -> None:
    from cityhub.settings import Settings

    output = run("ops", "settings").output
    names = [n for n in Settings.model_fields if n.startswith(("ops_", "scheduler_"))]
    assert len(names) == 16
    for name in names:
        assert Settings.model_fields[name].description, name
        assert f"CITYHUB_{name.upper()}=" in output


def test_console_mistakes_are_one_line(run: Callable[..., Result]) -> None:
    one_line_error(run("ops", "run", "999"), "no probe 999")
    one_line_error(run("ops", "sla", "--month", "2026-13"), "month '2026-13' is not YYYY-MM")
