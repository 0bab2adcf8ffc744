"""The exchange's side of the contract with the library: which items key a resource, where
its rows land, and handing accepted chunks to `cityhub.library.merge.merge_chunk`.

Everything the exchange knows of the library goes through this module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import polars as pl
from sqlalchemy.orm import Session

from cityhub.gateway.resources import ResourceInfo
from cityhub.library import first_load as library_first_load
from cityhub.library import merge as library_merge
from cityhub.library import target as library_target
from cityhub.library.golden import KEY_SEPARATOR


@dataclass(frozen=True)
class Landing:
    """Where a delivered resource's rows land and how they are keyed."""

    resource_code: str  # the delivered resource
    stored_code: str  # the resource whose table holds them (a library, for a feed)
    key_items: tuple[str, ...]  # item codes of the delivered resource, in key order
    columns: frozenset[str]  # datastore columns a delivery may carry
    normalize_key: Callable[[pl.Series], pl.Series] | None = None


@dataclass(frozen=True)
class Merged:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    conflicts: int = 0


def landing(session: Session, info: ResourceInfo) -> Landing:
    found = library_target.target_of(session, info.code)
    by_column = {item.column: item.code for item in info.items}
    keys = tuple(by_column.get(col, col) for col in found.layout.key_columns)
    normalize = found.library.normalize_key if found.library is not None else None
    return Landing(info.code, found.stored_code, keys, frozenset(found.columns), normalize)


def to_columns(frame: pl.DataFrame, info: ResourceInfo) -> pl.DataFrame:
    """Item codes → datastore column names (what the library's tables are made of)."""
    names = {item.code: item.column for item in info.items if item.code in frame.columns}
    return frame.rename(names)


def canonical_keys(frame: pl.DataFrame, key_items: tuple[str, ...]) -> pl.Series:
    """Keys as the library writes them: the value, or the parts joined by `|`."""
    parts = [pl.col(k).cast(pl.String) for k in key_items]
    expr = parts[0] if len(parts) == 1 else pl.concat_str(parts, separator=KEY_SEPARATOR)
    return frame.select(expr.alias("key")).to_series()


def key_normalizer(landed: Landing) -> Callable[[pl.Series], pl.Series] | None:
    """The library's own key normalization (ID numbers, credit codes), if it has one."""
    return landed.normalize_key


def _merged(result: library_merge.MergeResult) -> Merged:
    return Merged(
        result.inserted, result.updated, result.unchanged, result.deleted, result.conflicts
    )


def merge(
    session: Session,
    *,
    landing: Landing,
    provider_code: str,
    batch_id: int,
    frame: pl.DataFrame,
    mode: Literal["full", "incremental"],
    deleted_keys: pl.Series | None = None,
) -> Merged:
    """One accepted chunk into the library, in the caller's transaction."""
    result = library_merge.merge_chunk(
        session,
        resource_code=landing.resource_code,
        provider_code=provider_code,
        batch_id=batch_id,
        frame=frame,
        mode=mode,
        deleted_keys=deleted_keys,
    )
    return _merged(result)


def begin_first_load(session: Session, *, landing: Landing, batch_id: int) -> bool:
    """Into an empty library table (PostgreSQL): load without its indexes, build them at
    the end (`cityhub.library.first_load`). Every key of the batch must be new to it: the
    applier merges a key at most once per batch (repeats are held back and rejected)."""
    return library_first_load.begin(session, resource_code=landing.resource_code, batch_id=batch_id)


def finish_first_load(session: Session, *, landing: Landing) -> None:
    """After the batch's last chunk: the indexes built again (a no-op without a first load)."""
    library_first_load.finish(session, resource_code=landing.resource_code)


def end_first_load(session: Session, *, landing: Landing) -> None:
    library_first_load.done(session, landing.stored_code)


def finish_full(session: Session, *, landing: Landing, provider_code: str, batch_id: int) -> Merged:
    """After the last chunk of a full delivery: remove what it did not carry."""
    result = library_merge.finish_full(
        session,
        resource_code=landing.resource_code,
        provider_code=provider_code,
        batch_id=batch_id,
    )
    return _merged(result)
