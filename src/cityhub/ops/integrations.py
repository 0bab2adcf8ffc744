"""Lazy, tolerant access to the other packages operations watches.

The catalog, sensing, exchange and ledger packages are optional here: every helper imports
them when called and answers None when a package (or the part of it needed) is absent, so
operations degrades to "skipped" instead of failing to start.

A resource's newest data is the exchange's last completed batch for it
(`exchange_state.last_completed_at`), else the newest row of its datastore table.
"""

from __future__ import annotations

import importlib
import logging
from datetime import datetime
from types import ModuleType
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from cityhub.core.times import as_utc

log = logging.getLogger("cityhub.ops")


def module(name: str) -> ModuleType | None:
    """`cityhub.<name>`, or None when it is not installed (or fails to import)."""
    try:
        return importlib.import_module(f"cityhub.{name}")
    except ImportError:
        return None
    except Exception:  # a package that is broken right now must not take operations down
        log.exception("cannot import a watched package", extra={"module": name})
        return None


def catalog_resource(session: Session, code: str) -> Any | None:
    models = module("catalog.models")
    if models is None or not hasattr(models, "Resource"):
        return None
    resource = models.Resource
    return session.scalar(select(resource).where(resource.code == code))


def catalog_installed() -> bool:
    models = module("catalog.models")
    return models is not None and hasattr(models, "Resource")


def last_data_at(session: Session, resource_code: str) -> datetime | None:
    """When the resource's newest data arrived: the exchange's last completed batch, else
    the newest row written to its datastore table."""
    exchange = module("exchange.models")
    state = getattr(exchange, "ResourceState", None)
    if state is not None and hasattr(state, "last_completed_at"):
        try:
            with session.begin_nested():
                found: datetime | None = session.scalar(
                    select(state.last_completed_at).where(state.resource_code == resource_code)
                )
        except SQLAlchemyError:
            log.exception("cannot read the exchange's resource state")
        else:
            if found is not None:
                return as_utc(found)
    datastore = module("library.datastore")
    if datastore is None or not hasattr(datastore, "table_name"):
        return None
    conn = session.connection()
    try:
        if not datastore.exists(conn, resource_code):
            return None
        table = datastore.table_name(resource_code)
        column = getattr(datastore, "UPDATED_AT", "_updated_at")
        with session.begin_nested():
            value = session.scalar(text(f'SELECT max("{column}") FROM "{table}"'))
    except SQLAlchemyError:
        log.exception("cannot read the datastore table", extra={"resource": resource_code})
        return None
    if isinstance(value, str):  # SQLite may hand back text
        value = datetime.fromisoformat(value)
    return as_utc(value) if isinstance(value, datetime) else None


def organization_id(session: Session, code: str) -> int | None:
    from cityhub.directory.models import Organization

    return session.scalar(select(Organization.id).where(Organization.code == code))


def ledger_size(session: Session) -> int | None:
    models = module("ledger.models")
    if models is None or not hasattr(models, "Ledger"):
        return None
    return int(session.scalar(select(func.coalesce(func.sum(models.Ledger.size), 0))) or 0)
