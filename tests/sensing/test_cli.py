"""`cityhub sensing ...`: one clear line for every mistake; import and upkeep work."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from cityhub.cli import main
from cityhub.settings import Settings


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in ("CITYHUB_MQTT_URL", "CITYHUB_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    return {
        "CITYHUB_DATABASE_URL": settings.effective_database_url,
        "CITYHUB_DEMO_MODE": "true",
        "CITYHUB_DATA_DIR": str(settings.data_dir),
    }


def _one_line_error(result: object, expected: str) -> None:
    output: str = getattr(result, "output", "")
    assert getattr(result, "exit_code", 0) != 0
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("cityhub: error: ") and expected in lines[0], (
        output
    )


def test_ingest_needs_a_broker(env: dict[str, str]) -> None:
    _one_line_error(CliRunner().invoke(main, ["sensing", "ingest"], env=env), "CITYHUB_MQTT_URL")
    bad = env | {"CITYHUB_MQTT_URL": "http://x"}
    _one_line_error(CliRunner().invoke(main, ["sensing", "ingest"], env=bad), "mqtt://")


def test_import_and_upkeep(
    env: dict[str, str], client: TestClient, operator: dict[str, str], tmp_path: Path
) -> None:
    csv_file = tmp_path / "devices.csv"
    csv_file.write_text(
        "code,name,profile,lon,lat\nAQ-C1,一号,air-quality-station,118.35,35.06\nAQ-C2,二号,nope,,\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["sensing", "import", str(csv_file), "--as", "ops"], env=env)
    assert result.exit_code == 0, result.output
    assert "AQ-C1\tcdt_" in result.output
    assert "line 3: AQ-C2: profile: no device profile with code 'nope'" in result.output
    assert "1 registered, 1 refused" in result.output
    assert client.get("/api/v1/devices/AQ-C1", headers=operator).json()["region_code"] == "371302"
    upkeep = CliRunner().invoke(main, ["sensing", "upkeep"], env=env)
    assert upkeep.exit_code == 0 and '"rollups": 0' in upkeep.output
    missing = CliRunner().invoke(main, ["sensing", "import", "nope.csv", "--as", "ops"], env=env)
    _one_line_error(missing, "no file nope.csv")
    nobody = CliRunner().invoke(
        main, ["sensing", "import", str(csv_file), "--as", "ghost"], env=env
    )
    _one_line_error(nobody, "ghost")


def test_simulate_needs_the_demo(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["sensing", "simulate", "--seconds", "0.1"], env=env)
    _one_line_error(result, "build the demo first")
