"""Fixtures of the library tests: provider organizations, a clean datastore, a merge helper."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl
import pytest
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction
from cityhub.directory.models import Organization, OrgKind
from cityhub.library.merge import MergeResult, merge_chunk

PROVIDERS = {
    "LYGA": "临沂市公安局",
    "LYWJ": "临沂市卫生健康委员会",
    "LYMZ": "临沂市民政局",
    "LYRS": "临沂市人力资源和社会保障局",
    "LYSJ": "临沂市市场监督管理局",
    "LYSWJ": "国家税务总局临沂市税务局",
    "LYTJ": "临沂市统计局",
    "LYZRZY": "临沂市自然资源和规划局",
    "LYDSJ": "临沂市大数据局",
}


@pytest.fixture
def providers(db: sessionmaker[Session]) -> dict[str, int]:
    """The provider organizations of the base libraries, by code → id."""
    with transaction(db) as session:
        for code, name in PROVIDERS.items():
            session.add(
                Organization(code=code, name_zh=name, kind=OrgKind.government, region_code="371300")
            )
        session.flush()
        return {o.code: o.id for o in session.query(Organization)}


Merge = Callable[..., MergeResult]


@pytest.fixture
def merge(db: sessionmaker[Session], providers: dict[str, int]) -> Merge:
    """merge(resource, provider, rows, batch=..., mode=..., deleted=[...]) in its own
    transaction."""
    batches = iter(range(1, 10_000))

    def run(
        resource: str,
        provider: str,
        rows: list[dict[str, Any]] | pl.DataFrame,
        *,
        batch: int | None = None,
        mode: str = "incremental",
        deleted: list[str] | None = None,
    ) -> MergeResult:
        frame = rows if isinstance(rows, pl.DataFrame) else pl.DataFrame(rows)
        with transaction(db) as session:
            return merge_chunk(
                session,
                resource_code=resource,
                provider_code=provider,
                batch_id=batch if batch is not None else next(batches),
                frame=frame,
                mode=mode,  # type: ignore[arg-type]
                deleted_keys=pl.Series(deleted, dtype=pl.String) if deleted is not None else None,
            )

    return run


@pytest.fixture
def publish(db: sessionmaker[Session], providers: dict[str, int]) -> Callable[..., str]:
    """publish("301099-LYJT-000099", "LYJT", [("bh", "编号", DataType.string), ...])."""
    from cityhub.catalog import service as catalog
    from cityhub.catalog import workflow
    from cityhub.catalog.schemas import ItemIn, ResourceCreate
    from cityhub.catalog.vocab import (
        Category,
        DataType,
        OpenType,
        ResourceFormat,
        ShareType,
        SharingMethod,
        UpdateCycle,
    )
    from cityhub.security.models import Role

    def make(code: str, provider: str, items: list[tuple[str, str, DataType]]) -> str:
        with transaction(db) as session:
            org = session.query(Organization).filter_by(code=provider).one_or_none()
            if org is None:
                org = Organization(code=provider, name_zh=provider, kind=OrgKind.government)
                session.add(org)
                session.flush()
            officer = catalog.Actor("t", org.id, frozenset({Role.data_officer}))
            admin = catalog.Actor("a", None, frozenset({Role.platform_admin}))
            request = ResourceCreate(
                code=code,
                provider=provider,
                name=f"测试资源 {code}",
                category=Category.department,
                format=ResourceFormat.table,
                share_type=ShareType.unconditional,
                sharing_method=SharingMethod.api,
                open_type=OpenType.closed,
                update_cycle=UpdateCycle.daily,
                items=[ItemIn(code=c, name=n, data_type=t) for c, n, t in items],
            )
            resource = catalog.create_resource(session, request, officer)
            workflow.submit(session, resource, officer)
            workflow.approve(session, resource, admin)
        return code

    return make
