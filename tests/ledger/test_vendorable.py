"""verify.py can be vendored: it imports only the standard library and `cryptography`,
and a copy outside the package checks a real receipt."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from cityhub.ledger import verify
from cityhub.security.models import Role

from .conftest import Emitter


def test_verify_imports_nothing_of_cityhub() -> None:
    tree = ast.parse(Path(verify.__file__).read_text())
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
    assert roots - {"cryptography", "__future__"} <= set(sys.stdlib_module_names), roots


def test_a_copy_of_verify_checks_a_receipt_on_its_own(
    ledger_client: TestClient, auth: object, emit_events: Emitter, tmp_path: Path
) -> None:
    [event_id] = emit_events(1)
    ledger_client.post("/api/v1/ledger/heads", headers=auth(Role.operator)).raise_for_status()  # type: ignore[operator]
    receipt = ledger_client.get(f"/api/v1/ledger/receipts/event/{event_id}").json()
    vendored = tmp_path / "vendor" / "verify.py"
    vendored.parent.mkdir()
    vendored.write_text(Path(verify.__file__).read_text())
    (tmp_path / "receipt.json").write_text(json.dumps(receipt))
    done = subprocess.run(
        [sys.executable, str(vendored), str(tmp_path / "receipt.json")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "verify: the receipt is valid" in done.stdout
    first = receipt["inclusion_proof"][0]
    receipt["inclusion_proof"][0] = ("1" if first[0] == "0" else "0") + first[1:]
    (tmp_path / "receipt.json").write_text(json.dumps(receipt))
    done = subprocess.run(
        [sys.executable, str(vendored), str(tmp_path / "receipt.json")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and "FAILED" in done.stderr
