"""Witness cosigning end to end: the app under uvicorn in a thread, the witness CLI
against it over HTTP, and a rewritten history that the witness refuses to cosign."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from click.testing import CliRunner
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from cityhub.app import create_app
from cityhub.cli import main
from cityhub.ledger import store
from cityhub.ledger.models import LedgerEntry
from cityhub.ledger.service import sign_head
from cityhub.security.models import Role
from cityhub.settings import Settings

from .conftest import Emitter

Auth = Callable[..., dict[str, str]]


@pytest.fixture
def live_server(ledger_settings: Settings) -> Iterator[str]:
    app = create_app(ledger_settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)
    sock.close()


def _keygen(tmp_path: Path, name: str) -> tuple[Path, str]:
    key = tmp_path / f"{name}.pem"
    result = CliRunner().invoke(main, ["ledger", "keygen", "--out", str(key)])
    assert result.exit_code == 0, result.output
    public = result.output.split("public_key: ")[1].split()[0]
    return key, public


def _witness(url: str, key: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["ledger", "witness", "--url", url, "--key", str(key)])
    return result.exit_code, result.output


def test_witness_cosigns_consistent_heads_and_refuses_a_rewritten_history(
    live_server: str,
    tmp_path: Path,
    auth: Auth,
    emit_events: Emitter,
    db: sessionmaker[Session],
    settings: Settings,
    ledger_settings: Settings,
) -> None:
    key, public = _keygen(tmp_path, "lyga")
    dept = auth(Role.dept_admin, org_code="LYGA")
    operator = auth(Role.operator)
    registered = httpx.post(
        f"{live_server}/api/v1/ledger/witnesses",
        headers=dept,
        json={"name": "lyga-witness", "public_key": public},
    )
    assert registered.status_code == 201, registered.text

    emit_events(5)
    first = httpx.post(f"{live_server}/api/v1/ledger/heads", headers=operator).json()
    code, output = _witness(live_server, key)
    assert code == 0, output
    assert f"witness: cosigned size {first['size']}" in output
    state = json.loads((tmp_path / "lyga.pem.state.json").read_text())
    assert (state["size"], state["root"]) == (first["size"], first["root"])

    emit_events(7)
    second = httpx.post(f"{live_server}/api/v1/ledger/heads", headers=operator).json()
    code, output = _witness(live_server, key)
    assert code == 0, output
    assert f"cosigned size {second['size']}" in output
    assert f"(consistent with {first['size']})" in output
    latest = httpx.get(f"{live_server}/api/v1/ledger/heads/latest").json()
    assert [c["witness"] for c in latest["cosignatures"]] == ["lyga-witness"]
    witnesses = httpx.get(f"{live_server}/api/v1/ledger/witnesses").json()
    assert witnesses[0]["cosigned_size"] == second["size"]

    # The operator rewrites history: entry 0 changed, the tree rebuilt, a new head signed
    # with the genuine platform key. The witness must notice and refuse.
    with db() as session, session.begin():
        ledger = store.require_ledger(session)
        entries = [store.get_entry(session, ledger, i) for i in range(ledger.size)]
        rewritten = [
            store.NewEntry(body=e.body.replace('"grant_id":0', '"grant_id":666'), topic=e.topic)
            for e in entries
        ]
        session.execute(delete(LedgerEntry).where(LedgerEntry.ledger_id == ledger.id))
        ledger.size = 0
        store.append(session, ledger, rewritten)
    emit_events(1)
    from cityhub.ledger.sequencer import sequence

    sequence(db, ledger_settings)
    forged = sign_head(db, ledger_settings, None)
    assert forged["size"] > second["size"]
    code, output = _witness(live_server, key)
    assert code == 1
    assert output.strip().startswith("cityhub: error: the head of size")
    assert f"is not consistent with size {second['size']}" in output
    state = json.loads((tmp_path / "lyga.pem.state.json").read_text())
    assert state["size"] == second["size"], "a refused head must not move the witness on"
    latest = httpx.get(f"{live_server}/api/v1/ledger/heads/latest").json()
    assert latest["cosignatures"] == []


def test_witness_refuses_a_shrunk_log_and_a_wrong_platform_key(
    live_server: str, tmp_path: Path, auth: Auth, emit_events: Emitter
) -> None:
    key, public = _keygen(tmp_path, "lyzj")
    httpx.post(
        f"{live_server}/api/v1/ledger/witnesses",
        headers=auth(Role.dept_admin, org_code="LYZJ"),
        json={"name": "lyzj-witness", "public_key": public},
    ).raise_for_status()
    emit_events(3)
    httpx.post(f"{live_server}/api/v1/ledger/heads", headers=auth(Role.operator)).raise_for_status()
    state_path = tmp_path / "lyzj.pem.state.json"
    assert _witness(live_server, key)[0] == 0
    state = json.loads(state_path.read_text())
    state["size"] += 100  # pretend we saw a bigger log before
    state_path.write_text(json.dumps(state))
    code, output = _witness(live_server, key)
    assert code == 1 and "the log shrank" in output

    other, _ = _keygen(tmp_path, "platform-impostor")
    from cityhub.ledger.keys import parse_private_key
    from cityhub.ledger.keys import public_pem as to_pem

    pem = to_pem(parse_private_key(other.read_text(), "k").public_key().public_bytes_raw())
    (tmp_path / "log.pub").write_text(pem)
    state_path.unlink()
    result = CliRunner().invoke(
        main,
        ["ledger", "witness", "--url", live_server, "--key", str(key),
         "--log-key", str(tmp_path / "log.pub")],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "which is not trusted here" in result.output


def test_witness_reports_an_unreachable_ledger_in_one_line(tmp_path: Path) -> None:
    key, _ = _keygen(tmp_path, "w")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, output = _witness(f"http://127.0.0.1:{port}", key)
    assert code == 1
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("cityhub: error: cannot reach the ledger")
