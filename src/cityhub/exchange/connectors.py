"""Pull connectors: fetch a department's data on a schedule and deliver it as a batch
through the same pipeline as an upload.

- **http**: an HTTP JSON endpoint with paging (page numbers, offsets or a next cursor);
  `since_param` sends the high-water mark, `since_field` names the record field it is
  taken from.
- **sql**: a table behind any SQLAlchemy URL; `incremental_column` selects only rows past
  the high-water mark, in its order.

The high-water mark is remembered only when the batch it covers completes (in the same
transaction), so a run that fails at any point fetches the same rows again next time:
nothing is lost. A source that is down gives a failed batch saying so, and the connector
retries with exponential backoff (at most its interval).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction, utcnow
from cityhub.core.events import EventBus
from cityhub.core.times import as_utc
from cityhub.errors import CityHubError, Conflict, Forbidden, NotFound, ValidationFailed
from cityhub.exchange import pipeline, service
from cityhub.exchange.models import Batch, Connector
from cityhub.exchange.service import Actor
from cityhub.exchange.sources import Fetch, SourceDown, http_lines, sql_lines
from cityhub.exchange.vocab import BatchStatus, ConnectorKind, FileFormat, Mode, SourceKind
from cityhub.gateway import resources
from cityhub.security.models import Role
from cityhub.settings import Settings

log = logging.getLogger("cityhub.exchange.connectors")
PAGINGS = ("none", "page", "offset", "cursor")
_HTTP_KEYS = {
    "url", "items_path", "paging", "page_param", "size_param", "page_size", "start_page",
    "cursor_path", "cursor_param", "since_param", "since_field", "headers", "params",
}  # fmt: skip
_SQL_KEYS = {"url", "table", "columns", "incremental_column", "batch_rows"}


# -- configuration ---------------------------------------------------------------------------


def check_config(kind: ConnectorKind, config: dict[str, Any]) -> dict[str, Any]:
    allowed = _HTTP_KEYS if kind is ConnectorKind.http else _SQL_KEYS
    if unknown := sorted(set(config) - allowed):
        raise ValidationFailed(
            f"unknown {kind.value} connector setting(s) {', '.join(unknown)}; use "
            + ", ".join(sorted(allowed))
        )
    url = str(config.get("url") or "")
    if kind is ConnectorKind.http:
        if not url.startswith(("http://", "https://")):
            raise ValidationFailed("config.url must be an http:// or https:// URL")
        paging = config.get("paging", "none")
        if paging not in PAGINGS:
            raise ValidationFailed(f"config.paging must be one of {', '.join(PAGINGS)}")
        size = config.get("page_size", 1000)
        if not isinstance(size, int) or not 1 <= size <= 100_000:
            raise ValidationFailed("config.page_size must be a whole number from 1 to 100000")
        if not isinstance(config.get("headers", {}), dict):
            raise ValidationFailed("config.headers must be an object")
        return config
    try:
        make_url(url)
    except ArgumentError:
        raise ValidationFailed(
            "config.url must be an SQLAlchemy URL, e.g. postgresql+psycopg://host/db"
        ) from None
    if not config.get("table") or not isinstance(config["table"], str):
        raise ValidationFailed("config.table must name the source table")
    columns = config.get("columns", [])
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise ValidationFailed("config.columns must be a list of column names")
    return config


def shown(connector: Connector) -> dict[str, Any]:
    """The configuration without secrets (a database password, authorization headers)."""
    config = dict(connector.config)
    if connector.kind is ConnectorKind.sql and config.get("url"):
        try:
            config["url"] = make_url(config["url"]).render_as_string(hide_password=True)
        except ArgumentError:
            config["url"] = "***"
    if isinstance(config.get("headers"), dict):
        config["headers"] = dict.fromkeys(config["headers"], "***")
    return config


def may_manage(session: Session, actor: Actor, resource_code: str) -> resources.ResourceInfo:
    info = resources.load(session, resource_code)
    if actor.roles & {Role.platform_admin, Role.operator}:
        return info
    if actor.organization_id == info.provider_id and Role.data_officer in actor.roles:
        return info
    raise Forbidden(
        f"connectors of {resource_code} are managed by data officers of {info.provider_code} "
        "or the platform operator"
    )


def get(session: Session, connector_id: int) -> Connector:
    connector = session.get(Connector, connector_id)
    if connector is None:
        raise NotFound(f"no connector with id {connector_id}")
    return connector


# -- running ---------------------------------------------------------------------------------


def _claim(factory: sessionmaker[Session], connector_id: int, *, force: bool) -> Connector | None:
    now = utcnow()
    with transaction(factory) as session:
        stmt = update(Connector).where(
            Connector.id == connector_id,
            (Connector.lease_until.is_(None)) | (Connector.lease_until < now),
        )
        if not force:
            stmt = stmt.where(Connector.next_run_at <= now, Connector.enabled.is_(True))
        taken = session.execute(
            stmt.values(lease_until=now + timedelta(hours=6), last_run_at=now).execution_options(
                synchronize_session=False
            )
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            return None
        connector = session.get(Connector, connector_id)
        assert connector is not None
        session.expunge(connector)
        return connector


def _after_run(
    factory: sessionmaker[Session], connector_id: int, *, ok: bool, error: str = "",
    batch_id: int | None = None,
) -> None:  # fmt: skip
    with transaction(factory) as session:
        connector = session.get(Connector, connector_id)
        if connector is None:
            return
        connector.lease_until = None
        now = utcnow()
        if ok:
            connector.next_run_at = now + timedelta(seconds=connector.interval_seconds)
            if error:  # nothing new
                connector.last_status, connector.last_error = "ok", error
        else:
            connector.failures += 1
            delay = min(connector.interval_seconds, 30 * 2 ** min(connector.failures, 16))
            connector.next_run_at = now + timedelta(seconds=delay)
            connector.last_status, connector.last_error = "failed", error[:2000]
        if batch_id is not None:
            connector.last_batch_id = batch_id


def _failed_batch(factory: sessionmaker[Session], connector: Connector, message: str) -> int:
    """A source that is down is still a batch: it says so, and nothing is merged."""
    now = utcnow()
    with transaction(factory) as session:
        batch = Batch(
            resource_code=connector.resource_code,
            provider_id=connector.provider_id,
            source_kind=SourceKind(connector.kind.value),
            source=connector.name,
            connector_id=connector.id,
            mode=connector.mode,
            format=FileFormat.ndjson if connector.kind is ConnectorKind.http else FileFormat.csv,
            digest="",
            status=BatchStatus.failed,
            error=message[:2000],
            created_by=f"connector:{connector.name}",
            started_at=now,
            finished_at=now,
            duration_ms=0.0,
        )
        session.add(batch)
        session.flush()
        return batch.id


def run_one(
    factory: sessionmaker[Session], settings: Settings, connector_id: int, *,
    bus: EventBus | None = None, client: httpx.Client | None = None, force: bool = False,
) -> Batch | None:  # fmt: skip
    """Fetch and deliver once; the batch it made (None: not due, or nothing new)."""
    connector = _claim(factory, connector_id, force=force)
    if connector is None:
        return None
    fetch = Fetch(connector.high_water)
    timeout = settings.exchange_connector_timeout
    owned = client is None and connector.kind is ConnectorKind.http
    http = client or httpx.Client(follow_redirects=True)
    try:
        if connector.kind is ConnectorKind.http:
            lines = http_lines(connector.config, connector.high_water, http, fetch, timeout)
            filename = f"{connector.name}.ndjson"
        else:
            lines = sql_lines(connector.config, connector.high_water, fetch, timeout)
            filename = f"{connector.name}.csv"
        actor = Actor(
            f"connector:{connector.name}", connector.provider_id, frozenset(), system=True
        )
        received = service.receive(
            factory, settings, actor,
            resource_code=connector.resource_code, content=lines, filename=filename,
            mode=connector.mode, source=connector.name,
            source_kind=SourceKind(connector.kind.value), connector_id=connector.id,
            high_water=lambda: fetch.high_water or connector.high_water,
        )  # fmt: skip
    except CityHubError as exc:
        if "file is empty" in exc.detail:
            _after_run(factory, connector_id, ok=True, error="no new rows")
            return None
        batch_id = _failed_batch(factory, connector, exc.detail)
        _after_run(factory, connector_id, ok=False, error=exc.detail, batch_id=batch_id)
        log.warning("connector run failed", extra={"connector": connector.name})
        return _load(factory, batch_id)
    finally:
        if owned:
            http.close()
    batch = pipeline.run(factory, settings, received.batch_id, bus=bus)
    _after_run(
        factory, connector_id, ok=batch.status is not BatchStatus.failed, error=batch.error,
        batch_id=batch.id,
    )  # fmt: skip
    return batch


def _load(factory: sessionmaker[Session], batch_id: int) -> Batch:
    with factory() as session:
        batch = session.get(Batch, batch_id)
        assert batch is not None
        session.expunge(batch)
        return batch


def run_due(
    factory: sessionmaker[Session], settings: Settings, *, bus: EventBus | None = None,
    client: httpx.Client | None = None,
) -> int:  # fmt: skip
    now = utcnow()
    with factory() as session:
        due = [
            c.id
            for c in session.scalars(
                select(Connector).where(Connector.enabled.is_(True)).order_by(Connector.id)
            )
            if as_utc(c.next_run_at) <= now
        ]
    for connector_id in due:
        try:
            run_one(factory, settings, connector_id, bus=bus, client=client)
        except Exception:  # one broken connector must not stop the others
            log.exception("connector crashed", extra={"connector_id": connector_id})
            _after_run(factory, connector_id, ok=False, error="internal error; see the logs")
    return len(due)


def new(session: Session, actor: Actor, data: Any) -> Connector:
    info = may_manage(session, actor, data.resource_code)
    config = check_config(data.kind, dict(data.config))
    if session.scalar(select(Connector.id).where(Connector.name == data.name)) is not None:
        raise Conflict(f"a connector named {data.name!r} exists already")
    connector = Connector(
        name=data.name,
        resource_code=info.code,
        provider_id=info.provider_id,
        kind=data.kind,
        config=config,
        mode=data.mode,
        interval_seconds=data.interval_seconds,
        enabled=data.enabled,
        next_run_at=utcnow(),
        created_by=actor.username,
    )
    session.add(connector)
    session.flush()
    return connector


__all__ = ["Mode", "SourceDown", "new", "run_due", "run_one"]
