"""`cityhub user` and `cityhub apikey`: working keys, one clear line for every mistake."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient

from cityhub.cli import main
from cityhub.directory.models import Organization
from cityhub.security.models import AuditEvent, Role
from cityhub.settings import Settings

from .helpers import problem

Auth = Callable[..., dict[str, str]]
Events = Callable[..., list[AuditEvent]]
ME = "/api/v1/auth/me"


@pytest.fixture
def run(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Result]:
    """Run `cityhub ...` against the test database."""
    for name in ("CITYHUB_DATABASE_URL", "CITYHUB_SECRET_KEY", "CITYHUB_DEMO_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env file
    env = {
        "CITYHUB_DATABASE_URL": settings.effective_database_url,
        "CITYHUB_DATA_DIR": str(tmp_path / "data"),
        "CITYHUB_LOG_LEVEL": "WARNING",
    }

    def invoke(*args: str, stdin: str | None = None) -> Result:
        return CliRunner().invoke(main, list(args), env=env, input=stdin)

    return invoke


def _one_line_error(result: Result, expected: str) -> None:
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("cityhub: error: ") and expected in lines[0], lines[0]
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_apikey_create_prints_a_working_key(
    run: Callable[..., Result], auth: Auth, client: TestClient, events: Events
) -> None:
    auth(Role.developer, username="dev")
    result = run("apikey", "create", "--user", "dev", "--name", "etl")
    assert result.exit_code == 0, result.output
    raw = result.output.strip()
    assert raw.startswith("chk_") and "\n" not in raw
    me = client.get(ME, headers={"Authorization": f"Bearer {raw}"})
    assert me.status_code == 200 and me.json()["username"] == "dev"
    [row] = events(action="apikey.create")
    assert row.actor.startswith("cli") and row.target == "user:dev" and raw not in row.detail


def test_unknown_user_is_one_line(run: Callable[..., Result]) -> None:
    result = run("apikey", "create", "--user", "x")
    _one_line_error(result, "no user named 'x'")
    assert result.exit_code == 1
    _one_line_error(run("apikey", "list", "--user", "x"), "no user named 'x'")


def test_apikey_list_and_revoke(run: Callable[..., Result], auth: Auth, client: TestClient) -> None:
    auth(Role.developer, username="dev")
    raw = run("apikey", "create", "--user", "dev", "--name", "etl").output.strip()
    listing = run("apikey", "list", "--user", "dev")
    assert listing.exit_code == 0
    lines = listing.output.splitlines()
    assert len(lines) == 2 and "etl" in lines[1] and "active" in lines[1]
    assert raw not in listing.output
    key_id = lines[1].split()[0]
    revoked = run("apikey", "revoke", key_id)
    assert revoked.exit_code == 0 and "of dev" in revoked.output
    assert "revoked" in run("apikey", "list", "--user", "dev").output.splitlines()[1]
    problem(client.get(ME, headers={"Authorization": f"Bearer {raw}"}), 401, "was revoked")
    _one_line_error(run("apikey", "revoke", "999"), "no API key with id 999")


def test_user_create_and_list(
    run: Callable[..., Result],
    org: Callable[..., Organization],
    client: TestClient,
    events: Events,
) -> None:
    org("LYGA", "临沂市公安局")
    result = run(
        "user", "create", "--username", "zhang", "--org", "LYGA", "--role", "data_officer",
        "--role", "viewer", "--password", "Secret12345",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "created user zhang (LYGA; roles: data_officer, viewer)"
    login = client.post("/api/v1/auth/login", json={"username": "zhang", "password": "Secret12345"})
    assert login.status_code == 200
    listing = run("user", "list", "--org", "LYGA").output.split()
    assert listing[:4] == ["zhang", "LYGA", "data_officer,viewer", "active"]
    assert run("user", "list", "--role", "auditor").output.strip() == "no users"
    [row] = events(action="user.create")
    assert row.target == "user:zhang" and "Secret12345" not in row.detail


def test_user_create_prompts_for_the_password(
    run: Callable[..., Result], org: Callable[..., Organization], client: TestClient
) -> None:
    org("LYGA")
    result = run(
        "user", "create", "--username", "audra", "--org", "LYGA", "--role", "auditor",
        stdin="Secret12345\nSecret12345\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Secret12345" not in result.output
    login = client.post("/api/v1/auth/login", json={"username": "audra", "password": "Secret12345"})
    assert login.json()["roles"] == ["auditor"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--org", "NOPE", "--role", "viewer"], "no organization with code 'NOPE'"),
        (["--org", "LYGA", "--role", "auditor", "--role", "operator"], "separation of duties"),
        (
            ["--org", "LYGA", "--role", "viewer", "--password", "short1"],
            "password: the password must have at least 10 characters",
        ),
    ],
)
def test_user_create_mistakes_are_one_line(
    run: Callable[..., Result],
    org: Callable[..., Organization],
    args: list[str],
    expected: str,
) -> None:
    org("LYGA")
    base = ["user", "create", "--username", "li"]
    password = [] if "--password" in args else ["--password", "Secret12345"]
    _one_line_error(run(*base, *args, *password), expected)


def test_duplicate_user_is_one_line(run: Callable[..., Result], auth: Auth) -> None:
    auth(Role.viewer, username="dev")
    result = run(
        "user", "create", "--username", "dev", "--org", "LYDSJ", "--role", "viewer",
        "--no-password",
    )  # fmt: skip
    _one_line_error(result, "user 'dev' already exists")


def test_set_password_recovers_an_account(
    run: Callable[..., Result], auth: Auth, client: TestClient
) -> None:
    auth(Role.platform_admin, username="root")
    result = run("user", "set-password", "root", "--password", "Recovered123")
    assert result.exit_code == 0, result.output
    login = client.post("/api/v1/auth/login", json={"username": "root", "password": "Recovered123"})
    assert login.status_code == 200
    _one_line_error(run("user", "set-password", "ghost", "--password", "Recovered123"), "ghost")
    _one_line_error(
        run("user", "set-password", "root", "--password", "abcdefghijk"), "letters and digits"
    )
