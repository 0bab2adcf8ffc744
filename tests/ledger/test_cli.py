"""`cityhub ledger ...`: sequence, sign, status, export, verify, audit, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from cityhub.cli import main
from cityhub.ledger.verify import main as verify_main
from cityhub.settings import Settings

from .conftest import Emitter


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(settings.data_dir)
    for name in ("CITYHUB_SECRET_KEY", "CITYHUB_LEDGER_SIGNING_KEY"):
        monkeypatch.delenv(name, raising=False)
    return {
        "CITYHUB_DATABASE_URL": settings.effective_database_url,
        "CITYHUB_DATA_DIR": str(settings.data_dir),
        "CITYHUB_DEMO_MODE": "true",
    }


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, ["ledger", *args], env=env)


def test_sequence_sign_export_verify_and_audit(
    env: dict[str, str], emit_events: Emitter, tmp_path: Path, db: sessionmaker[Session]
) -> None:
    ids = emit_events(6)
    result = run(env, "sequence")
    assert result.exit_code == 0 and "6 entries appended; size 6" in result.output
    signed = run(env, "sign")
    assert signed.exit_code == 0 and "signed head size 6" in signed.output
    emit_events(3)
    assert run(env, "sign").exit_code == 0
    status = run(env, "status")
    assert "9 entries" in status.output and "latest head: size 9" in status.output

    bundle = tmp_path / "bundle.json"
    exported = run(env, "export", "--out", str(bundle))
    assert exported.exit_code == 0, exported.output
    assert "2 heads, 9 entries" in exported.output
    doc = json.loads(bundle.read_text())
    assert doc["complete"] is True and [h["size"] for h in doc["heads"]] == [6, 9]
    checked = run(env, "verify", str(bundle))
    assert checked.exit_code == 0, checked.output
    assert "ok: all 9 entries rebuild every head's root" in checked.output
    assert "ok: heads are consistent from size 6 to 9" in checked.output

    chosen = tmp_path / "chosen.json"
    assert (
        run(env, "export", "--out", str(chosen), "--event", str(ids[2]), "--index", "7").exit_code
        == 0
    )
    assert [e["index"] for e in json.loads(chosen.read_text())["entries"]] == [2, 7]
    assert verify_main([str(chosen)]) == 0  # the vendorable verifier, same answer

    # The platform key pinned from a file: a bundle signed by it passes, others fail.
    key = Path(env["CITYHUB_DATA_DIR"]) / "ledger" / "signing-key.pem"
    from cityhub.ledger.keys import Signer, parse_private_key, public_pem

    pub = tmp_path / "platform.pub"
    pub.write_text(public_pem(Signer(parse_private_key(key.read_text(), "k")).public_key))
    assert run(env, "verify", str(bundle), "--key", str(pub)).exit_code == 0
    other = tmp_path / "other.pem"
    CliRunner().invoke(main, ["ledger", "keygen", "--out", str(other)])
    other_pub = tmp_path / "other.pub"
    other_pub.write_text(public_pem(Signer(parse_private_key(other.read_text(), "k")).public_key))
    refused = run(env, "verify", str(bundle), "--key", str(other_pub))
    assert refused.exit_code == 1 and "not trusted here" in refused.output

    audit = run(env, "audit")
    assert audit.exit_code == 0 and "0 findings" in audit.output
    with db() as session, session.begin():
        session.execute(
            text("UPDATE ledger_entries SET topic = 'x', body = body || ' ' WHERE idx = 1")
        )
    audit = run(env, "audit")
    assert audit.exit_code == 1
    assert "TAMPERED ledger.entries: entry 1: the entry does not hash to its leaf" in audit.output
    tampered = json.loads(bundle.read_text())
    tampered["entries"][4]["entry"] = tampered["entries"][4]["entry"].replace('"v":1', '"v":2')
    bundle.write_text(json.dumps(tampered))
    failed = run(env, "verify", str(bundle))
    assert failed.exit_code == 1
    assert "FAILED: the entries do not rebuild the root of size 6" in failed.output


def test_mistakes_answer_in_one_line(env: dict[str, str], tmp_path: Path) -> None:
    def one_line(result: Result, expected: str) -> None:
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert result.exit_code != 0 and len(lines) == 1, result.output
        assert expected in lines[0], lines[0]

    one_line(run(env, "export", "--out", str(tmp_path / "b.json")), "has no entries yet")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    one_line(run(env, "verify", str(bad)), "verify: FAILED")
    bad.write_text(json.dumps({"format": "something-else"}))
    one_line(run(env, "verify", str(bad)), "unknown document format 'something-else'")
    one_line(
        run({**env, "CITYHUB_LEDGER_SIGNING_KEY": "not-a-key"}, "sign"),
        "CITYHUB_LEDGER_SIGNING_KEY is neither an Ed25519 PEM key nor base64",
    )
    one_line(run({**env, "CITYHUB_LEDGER_HASH": "md5"}, "sequence"), "CITYHUB_LEDGER_HASH")
    key = tmp_path / "w.pem"
    assert run(env, "keygen", "--out", str(key)).exit_code == 0
    one_line(run(env, "keygen", "--out", str(key)), "refusing to overwrite a key")
    one_line(
        run(env, "register-witness", "--name", "w", "--org", "NOPE", "--public-key", "AAAA"),
        "public_key",
    )


def test_settings_are_all_described(env: dict[str, str]) -> None:
    from cityhub.settings import Settings

    result = run({**env, "CITYHUB_LEDGER_SIGNING_KEY": "c2VjcmV0"}, "settings")
    assert result.exit_code == 0
    ledger_fields = {n: f for n, f in Settings.model_fields.items() if n.startswith("ledger_")}
    assert {"ledger_hash", "ledger_signing_key", "ledger_background"} <= ledger_fields.keys()
    for name, field in ledger_fields.items():
        assert f"CITYHUB_{name.upper()}=" in result.output
        assert field.description
    assert "c2VjcmV0" not in result.output
