"""The ledger API: entries, heads, proofs, receipts, witnesses, cosignatures, errors."""

from __future__ import annotations

import base64
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from cityhub.ledger.keys import Signer
from cityhub.ledger.verify import (
    TreeHasher,
    cosign_message,
    head_message,
    verify_consistency,
    verify_document,
    verify_inclusion,
)
from cityhub.security.models import Role

from .conftest import Emitter

Auth = Callable[..., dict[str, str]]


def _sign(client: TestClient, auth: Auth) -> dict[str, object]:
    response = client.post("/api/v1/ledger/heads", headers=auth(Role.operator))
    assert response.status_code == 201, response.text
    return response.json()


def test_entries_heads_and_proofs_verify(
    ledger_client: TestClient, auth: Auth, emit_events: Emitter
) -> None:
    emit_events(5)
    emit_events(4, resource_code="LYZJ-FW-002", batch_id="B7")
    head = _sign(ledger_client, auth)
    assert head["size"] == 9 + 1  # the operator's API key was notarized too
    assert head["hash_alg"] == "sm3" and head["algorithm"] == "ed25519"
    first = ledger_client.get("/api/v1/ledger/heads/latest").json()
    assert first == head

    entry = ledger_client.get("/api/v1/ledger/entries/3").json()
    assert entry["topic"] == "gateway.grant.created"
    hasher = TreeHasher("sm3")
    assert hasher.leaf(entry["entry"].encode()).hex() == entry["leaf_hash"]

    proof = ledger_client.get("/api/v1/ledger/proofs/inclusion", params={"index": 3}).json()
    assert proof["size"] == 10 and proof["root"] == head["root"]
    verify_inclusion(
        hasher, 3, 10, bytes.fromhex(entry["leaf_hash"]),
        [bytes.fromhex(p) for p in proof["proof"]], bytes.fromhex(head["root"]),
    )  # fmt: skip

    emit_events(6)
    newer = _sign(ledger_client, auth)
    cons = ledger_client.get(
        "/api/v1/ledger/proofs/consistency", params={"first": 10, "second": newer["size"]}
    ).json()
    assert cons["first_root"] == head["root"]
    verify_consistency(
        hasher, 10, newer["size"], [bytes.fromhex(p) for p in cons["proof"]],
        bytes.fromhex(head["root"]), bytes.fromhex(newer["root"]),
    )  # fmt: skip

    found = ledger_client.get("/api/v1/ledger/entries", params={"resource": "LYZJ-FW-002"})
    assert [e["batch_ref"] for e in found.json()["items"]] == ["B7"] * 4
    by_batch = ledger_client.get("/api/v1/ledger/entries", params={"batch": "B7", "limit": 3})
    page = by_batch.json()
    assert len(page["items"]) == 3 and page["next"]
    rest = ledger_client.get(
        "/api/v1/ledger/entries", params={"batch": "B7", "limit": 3, "cursor": page["next"]}
    ).json()
    assert len(rest["items"]) == 1 and rest["next"] is None

    heads = ledger_client.get("/api/v1/ledger/heads").json()["items"]
    assert [h["size"] for h in heads] == [newer["size"], 10]
    assert ledger_client.get("/api/v1/ledger/heads/10").json()["root"] == head["root"]
    summary = ledger_client.get("/api/v1/ledger").json()
    assert summary["size"] == newer["size"] and summary["heads"] == 2


def test_receipts_over_the_api_verify_offline_and_on_the_server(
    ledger_client: TestClient, auth: Auth, emit_events: Emitter
) -> None:
    [event_id] = emit_events(1)
    pending = ledger_client.get(f"/api/v1/ledger/receipts/event/{event_id}").json()
    assert pending["status"] == "pending"
    _sign(ledger_client, auth)
    receipt = ledger_client.get(pending["proof_url"]).json()
    assert receipt["status"] == "proven"
    assert verify_document(receipt).checks
    ok = ledger_client.post("/api/v1/ledger/receipts/verify", json=receipt).json()
    assert ok["valid"] is True and ok["kind"] == "receipt"

    forged = dict(receipt, entry=receipt["entry"].replace('"grant_id":0', '"grant_id":1'))
    bad = ledger_client.post("/api/v1/ledger/receipts/verify", json=forged).json()
    assert bad == {
        "valid": False,
        "kind": None,
        "checks": [],
        "warnings": [],
        "error": "the entry does not hash to the receipt's leaf hash",
    }
    # A receipt signed by some other key is refused even though it carries that key.
    other = Signer(Ed25519PrivateKey.generate())
    head = dict(receipt["head"], key_id=other.key_id)
    message = head_message(
        head["origin"], head["hash_alg"], head["size"], bytes.fromhex(head["root"]),
        head["timestamp"],
    )  # fmt: skip
    head["signature"] = base64.b64encode(other.sign(message)).decode()
    keys = [{"key_id": other.key_id, "algorithm": "ed25519",
             "public_key": base64.b64encode(other.public_key).decode()}]  # fmt: skip
    impostor = dict(receipt, head=head, keys=keys)
    refused = ledger_client.post("/api/v1/ledger/receipts/verify", json=impostor).json()
    assert refused["valid"] is False and "not trusted" in refused["error"]


def test_unknown_and_bad_requests_answer_precise_problems(
    ledger_client: TestClient, auth: Auth, emit_events: Emitter
) -> None:
    missing = ledger_client.get("/api/v1/ledger/entries/0")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert ledger_client.get("/api/v1/ledger/heads/latest").status_code == 404
    assert ledger_client.get("/api/v1/ledger/receipts/event/999").json()["detail"] == (
        "no event with id 999"
    )
    emit_events(3, topic="sensing.telemetry.received")
    [notarized] = emit_events(1)
    _sign(ledger_client, auth)
    r = ledger_client.get("/api/v1/ledger/receipts/event/1")
    assert r.status_code == 404 and "not notarized" in r.json()["detail"]
    assert ledger_client.get(f"/api/v1/ledger/receipts/event/{notarized}").status_code == 200
    too_big = ledger_client.get("/api/v1/ledger/proofs/inclusion", params={"index": 0, "size": 99})
    assert too_big.status_code == 400 and "beyond the ledger's size" in too_big.json()["detail"]
    outside = ledger_client.get("/api/v1/ledger/proofs/inclusion", params={"index": 5, "size": 2})
    assert outside.status_code == 400 and outside.json()["detail"] == (
        "index 5 is outside the tree of size 2"
    )
    backwards = ledger_client.get(
        "/api/v1/ledger/proofs/consistency", params={"first": 2, "second": 1}
    )
    assert backwards.status_code == 400
    assert (
        ledger_client.get("/api/v1/ledger/proofs/inclusion", params={"index": -1}).status_code
        == 422
    )
    assert ledger_client.post("/api/v1/ledger/heads").status_code == 401
    viewer = auth(Role.viewer)
    assert ledger_client.post("/api/v1/ledger/heads", headers=viewer).status_code == 403
    assert ledger_client.post("/api/v1/ledger/audits", headers=viewer).status_code == 403
    cursor = ledger_client.get("/api/v1/ledger/entries", params={"cursor": "@@"})
    assert cursor.status_code == 400


def test_witness_registration_and_cosigning(
    ledger_client: TestClient, auth: Auth, emit_events: Emitter
) -> None:
    key = Signer(Ed25519PrivateKey.generate())
    public = base64.b64encode(key.public_key).decode()
    dept = auth(Role.dept_admin, org_code="LYGA")
    created = ledger_client.post(
        "/api/v1/ledger/witnesses",
        headers=dept,
        json={"name": "lyga-witness", "public_key": public},
    )
    assert created.status_code == 201, created.text
    assert created.json()["organization_code"] == "LYGA"
    assert created.json()["cosigned_size"] is None
    # Another department's admin cannot register for LYGA; duplicates conflict.
    other = auth(Role.dept_admin, org_code="LYZJ")
    refused = ledger_client.post(
        "/api/v1/ledger/witnesses", headers=other,
        json={"name": "x-witness", "public_key": public, "organization_code": "LYGA"},
    )  # fmt: skip
    assert refused.status_code == 403
    again = ledger_client.post(
        "/api/v1/ledger/witnesses", headers=dept, json={"name": "again", "public_key": public}
    )
    assert again.status_code == 409
    short = ledger_client.post(
        "/api/v1/ledger/witnesses", headers=dept,
        json={"name": "short", "public_key": base64.b64encode(b"x" * 31).decode() + "=" * 20},
    )  # fmt: skip
    assert short.status_code == 422

    emit_events(2)
    head = _sign(ledger_client, auth)
    message = head_message(head["origin"], head["hash_alg"], head["size"],
                           bytes.fromhex(head["root"]), head["timestamp"])  # fmt: skip
    body = {
        "root": head["root"],
        "key_id": key.key_id,
        "timestamp": 1_700_000_000_000,
        "signature": base64.b64encode(
            key.sign(cosign_message(message, 1_700_000_000_000))
        ).decode(),
    }
    url = f"/api/v1/ledger/heads/{head['size']}/cosignatures"
    posted = ledger_client.post(url, json=body)
    assert posted.status_code == 201, posted.text
    assert posted.json()["witness"] == "lyga-witness"
    latest = ledger_client.get("/api/v1/ledger/heads/latest").json()
    assert [c["witness"] for c in latest["cosignatures"]] == ["lyga-witness"]
    # A forged cosignature and an unknown witness are refused.
    forged = dict(body, timestamp=body["timestamp"] + 1)
    assert ledger_client.post(url, json=forged).status_code == 422
    stranger = Signer(Ed25519PrivateKey.generate())
    assert ledger_client.post(url, json=dict(body, key_id=stranger.key_id)).status_code == 403
    witnesses = ledger_client.get("/api/v1/ledger/witnesses").json()
    assert witnesses[0]["cosigned_size"] == head["size"]
    # The receipt carries the cosignature and the verifier checks it.
    receipt = ledger_client.get("/api/v1/ledger/receipts/event/1").json()
    report = verify_document(receipt)
    assert "cosigned by witnesses: lyga-witness" in report.checks
