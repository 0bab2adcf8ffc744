"""Keeping derived libraries up to date, incrementally.

1. Inside every merge's transaction, the merge listener turns the changed input rows
   into the output keys they affect (`DerivationSpec.affected`) and records them as
   dirty (`library_dirty_keys`): atomically with the change, so none is ever missed.
   A bulk change (`BULK_CHANGE` keys from one chunk, or `FULL_AFTER` pending) marks the
   derivation for a full rebuild (`*`) instead: an initial load of millions of rows is
   cheaper recomputed whole than key by key.
2. The `library.merged` outbox event wakes the `Rebuilder` (after commit); it
   recomputes only the dirty keys (`rebuild`) and merges the output like a delivery
   (fingerprints, digest snapshot, events), removing outputs whose inputs are gone.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import polars as pl
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction, utcnow
from cityhub.core.events import Event, EventBus, emit
from cityhub.errors import NotFound
from cityhub.library import hooks, write
from cityhub.library import merge as merging
from cityhub.library.derived import BY_SLUG, DERIVATIONS, DerivationSpec
from cityhub.library.models import LibraryDerivationRun, LibraryDirtyKey

log = logging.getLogger("cityhub.library.derive")
FULL = "*"
FULL_AFTER = 100_000  # dirty keys pending: past this, a full rebuild is cheaper
BULK_CHANGE = 10_000  # keys changed by one chunk: a bulk load, rebuild in full
KEYS_PER_ROUND = 50_000


def dependents(resource_code: str) -> list[DerivationSpec]:
    return [d for d in DERIVATIONS if resource_code in d.inputs]


@hooks.on_merge
def mark_dirty(
    session: Session, resource_code: str, before: pl.DataFrame, after: pl.DataFrame
) -> None:
    """Record the output keys a merge's changed rows affect (merge listener)."""
    for spec in dependents(resource_code):
        if _full_pending(session, spec.slug):  # a full rebuild covers these keys too
            continue
        rows = pl.concat([f for f in (before, after) if f.height], how="diagonal_relaxed")
        keys = spec.affected(resource_code, rows).drop_nulls().unique()
        if keys.len():
            _add_dirty(session, spec.slug, keys)


def _full_pending(session: Session, slug: str) -> bool:
    where = LibraryDirtyKey.derivation == slug, LibraryDirtyKey.key == FULL
    return bool(session.scalar(select(LibraryDirtyKey.key).where(*where)))


def _add_dirty(session: Session, slug: str, keys: pl.Series) -> None:
    table = LibraryDirtyKey.__tablename__
    where = LibraryDirtyKey.derivation == slug
    if _full_pending(session, slug):
        return
    pending = session.scalar(select(func.count()).select_from(LibraryDirtyKey).where(where)) or 0
    if keys.len() > BULK_CHANGE or pending + keys.len() > FULL_AFTER:
        session.execute(delete(LibraryDirtyKey).where(where))
        keys = pl.Series([FULL])
    frame = pl.DataFrame(
        {"derivation": slug, "key": keys.cast(pl.String), "since": utcnow()},
        schema={"derivation": pl.String, "key": pl.String, "since": pl.Datetime("us", "UTC")},
    )
    write.insert_ignore(session.connection(), table, frame)


def dirty_count(session: Session, slug: str) -> int:
    stmt = select(func.count()).select_from(LibraryDirtyKey)
    return session.scalar(stmt.where(LibraryDirtyKey.derivation == slug)) or 0


@dataclass(frozen=True)
class Rebuilt:
    derivation: str
    full: bool
    keys: int
    result: merging.MergeResult


def _key_of(spec: DerivationSpec) -> str:
    return spec.key[0] if len(spec.key) == 1 else "_key"


def rebuild(session: Session, slug: str, *, full: bool = False) -> Rebuilt | None:
    """Recompute the dirty keys of one derivation (everything when `full` or marked `*`).
    None when there was nothing to do."""
    spec = BY_SLUG.get(slug)
    if spec is None:
        raise NotFound(f"no derived library {slug!r}; there are: {', '.join(BY_SLUG)}")
    where = LibraryDirtyKey.derivation == slug
    dirty = list(session.scalars(select(LibraryDirtyKey.key).where(where)))
    full = full or FULL in dirty
    if not full and not dirty:
        return None
    run = LibraryDerivationRun(derivation=slug, full=full, at=utcnow())
    session.add(run)
    session.flush()
    conn = session.connection()
    total = merging.MergeResult()
    code, owner = spec.resource_code, spec.owner
    if full:
        for rows in spec.compute(conn, None):
            total += merging.merge_chunk(
                session, resource_code=code, provider_code=owner, batch_id=run.id,
                frame=rows, mode="full",
            )  # fmt: skip
        total += merging.finish_full(
            session, resource_code=code, provider_code=owner, batch_id=run.id
        )
        keys = total.inserted + total.updated + total.unchanged
    else:
        keys = len(dirty)
        for offset in range(0, len(dirty), KEYS_PER_ROUND):
            wanted = pl.Series(dirty[offset : offset + KEYS_PER_ROUND], dtype=pl.String)
            frames = [f for f in spec.compute(conn, wanted) if f.height]
            rows = pl.concat(frames) if frames else _empty(spec)
            produced = rows.get_column(_key_of(spec)).cast(pl.String)
            gone = wanted.filter(~wanted.is_in(produced.implode()))
            total += merging.merge_chunk(
                session, resource_code=code, provider_code=owner, batch_id=run.id,
                frame=rows, mode="incremental", deleted_keys=gone,
            )  # fmt: skip
    session.execute(delete(LibraryDirtyKey).where(where))
    run.keys, run.inserted, run.updated, run.deleted = (
        keys,
        total.inserted,
        total.updated,
        total.deleted,
    )
    emit(
        session,
        "library.derivation.rebuilt",
        {
            "derivation": slug,
            "resource": spec.resource_code,
            "full": full,
            "keys": keys,
            "inserted": total.inserted,
            "updated": total.updated,
            "deleted": total.deleted,
        },
    )
    return Rebuilt(slug, full, keys, total)


def _empty(spec: DerivationSpec) -> pl.DataFrame:
    from cityhub.library import datastore as ds

    return pl.DataFrame(schema={f.column: ds.polars_dtype(f.column_spec.kind) for f in spec.fields})


def rebuild_dirty(factory: sessionmaker[Session], *, full: bool = False) -> list[Rebuilt]:
    """Every derivation with dirty keys (or all, `full`), each in its own transaction."""
    done = []
    for spec in DERIVATIONS:
        with transaction(factory) as session:
            outcome = rebuild(session, spec.slug, full=full)
        if outcome is not None:
            done.append(outcome)
    return done


class Rebuilder:
    """Rebuilds derived libraries in a daemon thread whenever a merge touched an input."""

    def __init__(self, factory: sessionmaker[Session], bus: EventBus) -> None:
        self._factory = factory
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cityhub-derive", daemon=True)
        bus.subscribe(merging.TOPIC_MERGED, self._on_merged)

    def _on_merged(self, evt: Event) -> None:
        if dependents(str(evt.payload.get("stored", ""))):
            self._wake.set()

    def start(self) -> None:
        self._thread.start()
        self._wake.set()  # catch up on what was marked before this process started

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                rebuild_dirty(self._factory)
            except Exception:  # the next merge retries; never kill the thread
                log.exception("derived library rebuild failed")
