"""The ledger console page, in Chinese and English, with search and receipt upload."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from cityhub.security.models import Role

from .conftest import Emitter


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def test_page_in_both_languages_with_search(
    ledger_client: TestClient, auth: Callable[..., dict[str, str]], emit_events: Emitter
) -> None:
    empty = ledger_client.get("/ledger?lang=zh-CN")
    assert empty.status_code == 200
    assert "区块链可信存证" in empty.text and "尚未签名树头" in empty.text
    emit_events(3, resource_code="LYGA-RK-001", batch_id="B1")
    emit_events(2, resource_code="LYZJ-FW-002", batch_id="B2")
    ledger_client.post("/api/v1/ledger/heads", headers=auth(Role.operator)).raise_for_status()

    zh = ledger_client.get("/ledger?lang=zh-CN").text
    assert 'data-testid="ledger-size">6<' in zh  # 5 events and the operator's key
    assert "最新签名树头" in zh and "cityhub/371300/main" in zh
    assert 'href="/ledger" class="active"' in zh
    en = ledger_client.get("/ledger?lang=en").text
    assert "Verifiable ledger" in en and "Latest signed tree head" in en
    by_resource = ledger_client.get("/ledger", params={"resource": "LYZJ-FW-002"}).text
    assert by_resource.count('data-index="') == 2
    by_batch = ledger_client.get("/ledger", params={"batch": "B1"}).text
    assert by_batch.count('data-index="') == 3
    nothing = ledger_client.get("/ledger", params={"batch": "none"}).text
    assert 'data-testid="no-entries"' in nothing
    # The JSON twin says the same.
    assert ledger_client.get("/api/v1/ledger").json()["size"] == 6


def test_receipt_upload_verifies_and_rejects(
    ledger_client: TestClient, auth: Callable[..., dict[str, str]], emit_events: Emitter
) -> None:
    [event_id] = emit_events(1)
    ledger_client.post("/api/v1/ledger/heads", headers=auth(Role.operator)).raise_for_status()
    receipt = ledger_client.get(f"/api/v1/ledger/receipts/event/{event_id}").json()
    page = ledger_client.get("/ledger?lang=en")
    token = _csrf(page.text)

    def upload(content: bytes) -> str:
        response = ledger_client.post(
            "/ledger/verify",
            data={"csrf_token": token},
            files={"receipt": ("receipt.json", content, "application/json")},
        )
        return response.text

    ok = upload(json.dumps(receipt).encode())
    assert 'data-testid="verify-result"' in ok and "Valid" in ok
    assert "is included in the tree of size" in ok
    receipt["leaf_hash"] = "00" * 32
    bad = upload(json.dumps(receipt).encode())
    assert "Not valid" in bad and "does not hash to the receipt&#39;s leaf hash" in bad
    garbage = upload(b"\xff\xfe not json")
    assert "The file is not JSON" in garbage
    forged = ledger_client.post(
        "/ledger/verify",
        data={"csrf_token": "forged.token"},
        files={"receipt": ("r.json", b"{}", "application/json")},
    )
    assert forged.status_code == 403 and "The form has expired" in forged.text
