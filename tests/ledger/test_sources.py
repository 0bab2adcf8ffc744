"""The built-in digest sources against the real packages: a published catalog version
whose snapshot is edited with SQL is reported by the audit."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from cityhub.directory.models import Organization
from cityhub.ledger.audit import run_audit
from cityhub.ledger.sequencer import sequence
from cityhub.ledger.service import sign_head
from cityhub.ledger.verify import verify_document
from cityhub.security.models import Role
from cityhub.settings import Settings

AIR = {
    "code": "402001-LYSTHJ-000001",
    "name": "空气质量监测数据",
    "summary": "空气质量自动监测站的小时浓度和空气质量指数",
    "category": "topic",
    "format": "table",
    "share_type": "unconditional",
    "sharing_method": "api",
    "open_type": "open",
    "update_cycle": "realtime",
    "regions": ["371300"],
    "keywords": ["空气质量"],
    "items": [
        {"name": "站点名称", "code": "zdmc", "data_type": "string", "length": 100},
        {"name": "PM2.5浓度", "code": "pm25", "data_type": "double"},
    ],
}


def test_a_published_version_edited_outside_the_platform_is_reported(
    ledger_client: TestClient,
    auth: Callable[..., dict[str, str]],
    org: Callable[..., Organization],
    db: sessionmaker[Session],
    settings: Settings,
    ledger_settings: Settings,
) -> None:
    org("LYSTHJ", "临沂市生态环境局")
    officer = auth(Role.data_officer, org_code="LYSTHJ")
    admin = auth(Role.platform_admin, org_code="LYSTHJ")
    assert ledger_client.post("/api/v1/resources", json=AIR, headers=officer).status_code == 201
    code = AIR["code"]
    assert ledger_client.post(f"/api/v1/resources/{code}/submit", headers=officer).is_success
    approved = ledger_client.post(
        f"/api/v1/resources/{code}/approve", json={"comment": "同意"}, headers=admin
    )
    assert approved.is_success, approved.text
    sequence(db, ledger_settings)
    sign_head(db, ledger_settings, None)

    found = ledger_client.get("/api/v1/ledger/entries", params={"resource": code}).json()
    [entry] = [e for e in found["items"] if e["topic"] == "catalog.resource.published"]
    receipt = ledger_client.get(f"/api/v1/ledger/receipts/event/{entry['event_id']}").json()
    assert verify_document(receipt).kind == "receipt"
    assert run_audit(db, data_dir=settings.data_dir).ok

    with db() as session, session.begin():
        session.execute(
            text("UPDATE catalog_versions SET snapshot = replace(snapshot, :a, :b)"),
            {"a": "空气质量监测数据", "b": "空气质量监测数据（已改）"},
        )
    run = run_audit(db, data_dir=settings.data_dir)
    assert not run.ok
    assert f"entry {entry['index']} (catalog.resource.published)" in run.findings
    assert "digest changed outside the platform" in run.findings
