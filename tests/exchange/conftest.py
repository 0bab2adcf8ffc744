"""Fixtures of the exchange tests: a published department resource keyed by ID number,
its provider's data officer, and helpers to deliver files."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session, sessionmaker

from cityhub.app import create_app
from cityhub.catalog import service as catalog
from cityhub.catalog import workflow
from cityhub.catalog.schemas import ResourceCreate
from cityhub.core.db import make_engine, transaction
from cityhub.directory.models import Organization
from cityhub.library import datastore as ds
from cityhub.library import target as library_target
from cityhub.security.models import Role
from cityhub.settings import Settings
from cityhub.standards.id_number import check_digit

PEOPLE = "301501-LYGA-000001"
PEOPLE_ITEMS: list[dict[str, Any]] = [
    {"name": "公民身份号码", "code": "sfzh", "data_type": "string", "length": 18,
     "sensitivity": "sensitive", "masking": "keep:first6,last4"},
    {"name": "姓名", "code": "xm", "data_type": "string", "length": 32, "masking": "name"},
    {"name": "性别", "code": "xb", "data_type": "string", "length": 1},
    {"name": "出生日期", "code": "csrq", "data_type": "date"},
    {"name": "户籍区划", "code": "hjqh", "data_type": "string", "length": 6},
    {"name": "户籍地址", "code": "hjdz", "data_type": "string", "length": 128},
    {"name": "联系电话", "code": "lxdh", "data_type": "string", "length": 11, "masking": "phone"},
    {"name": "年龄", "code": "nl", "data_type": "integer"},
]  # fmt: skip
PEOPLE_RULES = {
    "xm": {"required": True},
    "xb": {"codes": ["1", "2"]},
    "hjdz": {"check": "address", "region_item": "hjqh"},
    "hjqh": {"check": "region", "within": "371300"},
    "nl": {"min": 0, "max": 150},
}
HEADER = "sfzh,xm,xb,csrq,hjqh,hjdz,lxdh,nl"


def id_number(seq: int, region: str = "371302") -> str:
    """A valid, distinct ID number per `seq` (the birth date moves every 1000)."""
    born = (date(1990, 1, 1) + timedelta(days=seq // 1000)).strftime("%Y%m%d")
    body = f"{region}{born}{seq % 1000:03d}"
    return body + check_digit(body)


def person_row(n: int, **overrides: str) -> str:
    values = {
        "sfzh": id_number(n),
        "xm": f"张{'三四五六七八九十'[n % 8]}",
        "xb": str(1 + n % 2),
        "csrq": "1990-01-01",
        "hjqh": "371302",
        "hjdz": "临沂市兰山区金雀山路1号",
        "lxdh": f"138{n:08d}",
        "nl": "36",
    }
    values.update(overrides)
    return ",".join(values[k] for k in HEADER.split(","))


def people_csv(n: int, start: int = 1, extra: list[str] | None = None) -> str:
    lines = [HEADER, *(person_row(i) for i in range(start, start + n)), *(extra or [])]
    return "\n".join(lines) + "\n"


@pytest.fixture(autouse=True)
def _quiet_scheduler(monkeypatch: pytest.MonkeyPatch) -> None:
    """Background jobs off: each test drives batches, connectors and webhooks itself."""
    monkeypatch.setenv("CITYHUB_SCHEDULER_ENABLED", "false")
    monkeypatch.setenv("CITYHUB_LEDGER_BACKGROUND", "false")


@pytest.fixture
def client(settings: Settings, _quiet_scheduler: None) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@dataclass
class World:
    client: TestClient
    db: sessionmaker[Session]
    settings: Settings
    auth: Callable[..., dict[str, str]]
    officers: dict[str, dict[str, str]] = field(default_factory=dict)

    def officer(self, org: str = "LYGA") -> dict[str, str]:
        if org not in self.officers:
            self.officers[org] = self.auth(Role.data_officer, org_code=org)
        return self.officers[org]

    def publish(
        self, code: str = PEOPLE, items: list[dict[str, Any]] | None = None,
        key: list[str] | None = None, rules: dict[str, Any] | None = None,
        share_type: str = "conditional",
    ) -> None:  # fmt: skip
        provider = code.split("-")[1]
        self.officer(provider)
        admin = catalog.Actor("catalog-admin", None, frozenset({Role.platform_admin}))
        with transaction(self.db) as session:
            org = session.query(Organization).filter_by(code=provider).one()
            editor = catalog.Actor("editor", org.id, frozenset({Role.data_officer}))
            data = ResourceCreate.model_validate(
                {
                    "code": code,
                    "provider": provider,
                    "name": f"测试资源 {code}",
                    "category": {"1": "basic", "3": "department"}[code[0]],
                    "format": "table",
                    "share_type": share_type,
                    "share_condition": "仅限政务用途" if share_type == "conditional" else "",
                    "sharing_method": "api",
                    "open_type": "closed",
                    "update_cycle": "daily",
                    "items": items or PEOPLE_ITEMS,
                }
            )
            resource = catalog.create_resource(session, data, editor)
            workflow.submit(session, resource, editor)
            workflow.approve(session, resource, admin, "ok")
            if key is not None or items is None:
                library_target.set_key(session, code, key or ["sfzh"])
        body = {"items": PEOPLE_RULES if rules is None and items is None else (rules or {})}
        response = self.client.put(
            f"/api/v1/resources/{code}/exchange-rules", json=body, headers=self.officer(provider)
        )
        assert response.status_code == 200, response.text

    def deliver(
        self, content: bytes | str, *, filename: str = "people.csv", resource: str = PEOPLE,
        headers: dict[str, str] | None = None, **form: Any,
    ) -> httpx.Response:  # fmt: skip
        raw = content.encode() if isinstance(content, str) else content
        data = {"resource": resource, **{k: str(v) for k, v in form.items()}}
        return self.client.post(
            "/api/v1/deliveries",
            data=data,
            files={"file": (filename, raw)},
            headers=headers if headers is not None else self.officer(resource.split("-")[1]),
        )

    def rows(self, code: str = PEOPLE) -> list[dict[str, Any]]:
        engine = make_engine(self.settings.effective_database_url)
        try:
            with engine.connect() as conn:
                name = ds.table_name(code)
                if not inspect(conn).has_table(name):
                    return []
                result = conn.execute(text(f'SELECT * FROM "{name}" ORDER BY "_row_id"'))
                return [dict(r._mapping) for r in result]
        finally:
            engine.dispose()


@pytest.fixture
def world(
    client: TestClient,
    db: sessionmaker[Session],
    settings: Settings,
    auth: Callable[..., dict[str, str]],
) -> World:
    made = World(client, db, settings, auth)
    made.publish()
    return made


def shuffled(lines: list[str], seed: int = 1) -> list[str]:
    out = list(lines)
    random.Random(seed).shuffle(out)
    return out
