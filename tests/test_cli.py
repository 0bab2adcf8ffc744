"""The command line: one clear line and a non-zero exit for every user mistake."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cityhub.cli import main
from cityhub.settings import Settings


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in ("CITYHUB_DATABASE_URL", "CITYHUB_SECRET_KEY", "CITYHUB_DEMO_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return {"CITYHUB_DATA_DIR": str(tmp_path / "data")}


def _one_line_error(result: object, expected: str) -> None:
    output: str = getattr(result, "output", "")  # click mixes stderr into output
    assert getattr(result, "exit_code", 0) != 0
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("cityhub: error: ") and expected in lines[0]


def test_settings_prints_every_setting(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["settings"], env=env | {"CITYHUB_SECRET_KEY": "hunter2xx"})
    assert result.exit_code == 0
    for name in Settings.model_fields:
        assert f"CITYHUB_{name.upper()}=" in result.output
    assert "hunter2xx" not in result.output and "CITYHUB_SECRET_KEY=********" in result.output


def test_invalid_setting(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["settings"], env=env | {"CITYHUB_PORT": "eighty"})
    _one_line_error(result, "CITYHUB_PORT")


def test_default_secret_refused_outside_demo(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["init"], env=env)
    _one_line_error(result, "CITYHUB_SECRET_KEY")


def test_unreachable_database(env: dict[str, str]) -> None:
    bad = env | {
        "CITYHUB_DATABASE_URL": "postgresql+psycopg://127.0.0.1:1/none",
        "CITYHUB_SECRET_KEY": "a-long-real-secret",
    }
    result = CliRunner().invoke(main, ["init"], env=bad)
    _one_line_error(result, "unreachable")


def test_init_creates_the_database(env: dict[str, str], tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["init"], env=env | {"CITYHUB_SECRET_KEY": "a-real-secret"})
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data" / "cityhub.db").exists()


def test_port_in_use(env: dict[str, str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(
            main, ["serve", "--port", str(port)], env=env | {"CITYHUB_SECRET_KEY": "a-real-secret"}
        )
    _one_line_error(result, f"port {port}")


def test_real_process_prints_no_traceback(env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cityhub", "init"],
        env={"PATH": "/usr/bin:/bin", **env, "CITYHUB_PORT": "x"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().startswith("cityhub: error: invalid setting CITYHUB_PORT")


def test_a_new_install_gets_its_first_org_and_admin(env: dict[str, str]) -> None:
    run = CliRunner()
    secret = env | {"CITYHUB_SECRET_KEY": "a-real-secret"}
    made = run.invoke(
        main,
        [
            "org",
            "create",
            "--code",
            "LYZHYY",
            "--name",
            "临沂新型智慧城市运营有限公司",
            "--kind",
            "operator",
            "--region",
            "371300",
        ],
        env=secret,
    )
    assert made.exit_code == 0, made.output
    admin = run.invoke(
        main,
        [
            "user",
            "create",
            "--username",
            "root",
            "--org",
            "LYZHYY",
            "--role",
            "platform_admin",
            "--password",
            "Admin-pass-2026",
        ],
        env=secret,
    )
    assert admin.exit_code == 0, admin.output
    listed = run.invoke(main, ["org", "list"], env=secret)
    assert "LYZHYY\toperator\t371300" in listed.output


def test_org_create_rejects_bad_input_in_one_line(env: dict[str, str]) -> None:
    secret = env | {"CITYHUB_SECRET_KEY": "a-real-secret"}
    bad_region = CliRunner().invoke(
        main,
        [
            "org",
            "create",
            "--code",
            "LYX",
            "--name",
            "X",
            "--kind",
            "government",
            "--region",
            "999999",
        ],
        env=secret,
    )
    _one_line_error(bad_region, "999999")
    bad_code = CliRunner().invoke(
        main, ["org", "create", "--code", "x y", "--name", "X", "--kind", "government"], env=secret
    )
    _one_line_error(bad_code, "code")
