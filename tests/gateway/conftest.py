"""Fixtures of the gateway tests: a small published catalog, people, applications, keys."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cityhub.catalog import service as catalog
from cityhub.catalog import workflow
from cityhub.catalog.schemas import ResourceCreate
from cityhub.core.db import transaction
from cityhub.demo.gateway_rows import ItemShape, generate
from cityhub.directory.models import Organization, OrgKind
from cityhub.gateway import resources
from cityhub.library import datastore as ds
from cityhub.security import service as security
from cityhub.security.models import Role
from cityhub.settings import Settings

from .helpers import PEOPLE, PEOPLE_ITEMS


@dataclass
class Gw:
    """The gateway's test world: call `gw.person(...)`, `gw.publish(...)`, `gw.app(...)`."""

    client: TestClient
    db: sessionmaker[Session]
    settings: Settings
    officers: dict[str, dict[str, str]] = field(default_factory=dict)
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)  # the rows each table got

    def person(
        self, *roles: Role, org: str = "LYJT", username: str | None = None
    ) -> dict[str, str]:
        """Bearer headers of a new API-only user (no password: argon2 would slow the suite)."""
        with transaction(self.db) as session:
            found = session.scalar(select(Organization).where(Organization.code == org))
            if found is None:
                found = Organization(
                    code=org,
                    name_zh=f"测试单位 {org}",
                    kind=OrgKind.government,
                    region_code="371300",
                )
                session.add(found)
                session.flush()
            user = security.create_user(
                session,
                username=username or f"u{uuid.uuid4().hex[:8]}",
                organization_id=found.id,
                roles=set(roles),
            )
            _, raw = security.create_api_key(session, user, "test")
        return {"Authorization": f"Bearer {raw}"}

    def officer(self, org: str) -> dict[str, str]:
        if org not in self.officers:
            self.officers[org] = self.person(Role.data_officer, org=org)
        return self.officers[org]

    def publish(
        self,
        code: str,
        *,
        share_type: str,
        items: list[dict[str, Any]],
        condition: str = "",
        rows: int = 0,
        seed: int = 1,
    ) -> None:
        """Register and publish a tabular resource through the catalog, then fill its table."""
        provider = code.split("-")[1]
        self.officer(provider)  # makes the organization
        admin = catalog.Actor("catalog-admin", None, frozenset({Role.platform_admin}))
        with transaction(self.db) as session:
            org = session.scalars(select(Organization).where(Organization.code == provider)).one()
            editor = catalog.Actor("editor", org.id, frozenset({Role.data_officer}))
            data = ResourceCreate.model_validate(
                {
                    "code": code,
                    "provider": provider,
                    "name": f"测试资源 {code}",
                    "category": {"1": "basic", "3": "department"}[code[0]],
                    "format": "table",
                    "share_type": share_type,
                    "share_condition": condition,
                    "sharing_method": None if share_type == "none" else "api",
                    "open_type": "closed",
                    "update_cycle": "daily",
                    "items": items,
                }
            )
            resource = catalog.create_resource(session, data, editor)
            workflow.submit(session, resource, editor)
            workflow.approve(session, resource, admin, "ok")
        if rows:
            self.fill(code, rows, seed)

    def fill(self, code: str, n: int, seed: int = 1) -> pl.DataFrame:
        with transaction(self.db) as session:
            info = resources.load(session, code)
            shapes = [ItemShape(i.code, i.name, i.kind.value, i.length) for i in info.items]
            frame = generate(shapes, n, seed)
            conn = session.connection()
            ds.ensure_table(conn, info.table_spec)
            ds.insert(conn, info.table_spec, frame)
        self.frames[code] = frame
        return frame

    def app(self, headers: dict[str, str], name: str = "智慧交通出行服务") -> int:
        body = {"name": name, "purpose": "出行服务", "contact_phone": "13812345678"}
        response = self.client.post("/api/v1/applications", json=body, headers=headers)
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    def key(self, headers: dict[str, str], app_id: int) -> dict[str, str]:
        response = self.client.post(f"/api/v1/applications/{app_id}/keys", headers=headers)
        assert response.status_code == 201, response.text
        return {"Authorization": f"Bearer {response.json()['key']}"}

    def request(
        self, headers: dict[str, str], app_id: int, code: str, **extra: Any
    ) -> httpx.Response:
        body = {
            "application_id": app_id,
            "resource_code": code,
            "purpose": "交通出行分析",
            "period_end": (date.today() + timedelta(days=90)).isoformat(),
            **extra,
        }
        return self.client.post("/api/v1/requests", json=body, headers=headers)

    def granted_key(
        self,
        code: str,
        *,
        clear: list[str] | None = None,
        items: list[str] | None = None,
        dev: dict[str, str] | None = None,
    ) -> tuple[dict[str, str], int]:
        """A developer's application key with an approved grant on `code`."""
        dev = dev or self.person(Role.developer)
        app_id = self.app(dev)
        extra: dict[str, Any] = {"clear_items": clear or []}
        if items is not None:
            extra["items"] = items
        made = self.request(dev, app_id, code, **extra)
        assert made.status_code == 201, made.text
        if made.json()["status"] == "pending":
            officer = self.officer(code.split("-")[1])
            decided = self.client.post(
                f"/api/v1/requests/{made.json()['id']}/approve", json={}, headers=officer
            )
            assert decided.status_code == 200, decided.text
        return self.key(dev, app_id), app_id


@pytest.fixture
def gw(client: TestClient, db: sessionmaker[Session], settings: Settings) -> Gw:
    return Gw(client, db, settings)


@pytest.fixture
def people(gw: Gw) -> Gw:
    """The population resource (有条件共享, masked items) with 250 generated rows."""
    gw.publish(PEOPLE, share_type="conditional", condition="仅限政务用途", items=PEOPLE_ITEMS)
    gw.fill(PEOPLE, 250)
    return gw
