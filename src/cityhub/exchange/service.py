"""Deliveries: who may deliver, receiving the file, duplicates, listing batches,
quarantine, resubmission. No web imports: the API, the console and the CLI share it."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction
from cityhub.errors import Conflict, Forbidden, NotFound, ValidationFailed
from cityhub.exchange import encoding, intake, readers
from cityhub.exchange.models import Batch, QuarantineRow
from cityhub.exchange.prepare import check_resource
from cityhub.exchange.vocab import BatchStatus, FileFormat, Mode, QuarantineStatus, SourceKind
from cityhub.gateway import resources
from cityhub.gateway.resources import ResourceInfo
from cityhub.security.models import Role, User
from cityhub.settings import Settings

LIVE = (BatchStatus.pending, BatchStatus.running, BatchStatus.completed)


@dataclass(frozen=True)
class Actor:
    """Who delivers: a person (API, console) or the operator's CLI acting for a provider."""

    username: str
    organization_id: int | None
    roles: frozenset[Role]
    system: bool = False  # the CLI on the server, acting for the provider it names

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user.username, user.organization_id, frozenset(user.roles))


@dataclass(frozen=True)
class Received:
    batch_id: int
    duplicate_of: int | None = None


def may_deliver(actor: Actor, info: ResourceInfo) -> None:
    """Only the provider's data officers deliver; 403 names the provider otherwise."""
    if actor.system and actor.organization_id == info.provider_id:
        return
    if actor.organization_id == info.provider_id and Role.data_officer in actor.roles:
        return
    raise Forbidden(
        f"only data officers of {info.provider_name} ({info.provider_code}), the provider of "
        f"resource {info.code}, may deliver its data"
    )


def check_target(session: Session, actor: Actor, resource_code: str) -> ResourceInfo:
    info = resources.load(session, resource_code)
    may_deliver(actor, info)
    check_resource(info)
    return info


def earlier(
    session: Session, resource_code: str, digest: str, before: int | None = None
) -> Batch | None:
    """A live batch of the resource with the same content, if any."""
    stmt = select(Batch).where(
        Batch.resource_code == resource_code, Batch.digest == digest, Batch.status.in_(LIVE)
    )
    if before is not None:
        stmt = stmt.where(Batch.id < before)
    return session.scalars(stmt.order_by(Batch.id).limit(1)).first()


def receive(
    factory: sessionmaker[Session],
    settings: Settings,
    actor: Actor,
    *,
    resource_code: str,
    content: BinaryIO | Iterable[bytes],
    filename: str = "",
    mode: Mode = Mode.incremental,
    encoding_name: str | None = None,
    format_name: str | None = None,
    source: str = "upload",
    source_kind: SourceKind = SourceKind.upload,
    deletions: BinaryIO | None = None,
    parent_id: int | None = None,
    connector_id: int | None = None,
    high_water: str | Callable[[], str | None] | None = None,
    on_progress: Any = None,
) -> Received:
    """Store the file and queue its batch; the same content twice gives the first batch.

    `high_water` (connectors) may be a function: it is asked once the content is stored."""
    with factory() as session:
        info = check_target(session, actor, resource_code)
    if encoding_name:
        encoding.normalize_name(encoding_name)
    if not source or len(source) > 64:
        raise ValidationFailed("source must be 1 to 64 characters")
    max_bytes = settings.exchange_max_upload_mb * (1 << 20)
    suffix = Path(filename).suffix.lower()[:10]
    stored = intake.store(
        content, settings.data_dir, suffix=suffix, max_bytes=max_bytes, on_progress=on_progress
    )
    removable = [stored.path]
    try:
        fmt = readers.detect_format(filename, stored.head, format_name)
        deletions_rel = ""
        if deletions is not None:
            if mode is Mode.full:
                raise ValidationFailed("a deletions list goes with mode=incremental only")
            listed = intake.store(deletions, settings.data_dir, suffix=".csv", max_bytes=max_bytes)
            removable.append(listed.path)
            deletions_rel = listed.relative
        with transaction(factory) as session:
            found = earlier(session, info.code, stored.digest)
            if found is not None and source_kind is not SourceKind.resubmit:
                for path in removable:
                    path.unlink(missing_ok=True)
                return Received(found.id, duplicate_of=found.id)
            batch = Batch(
                resource_code=info.code,
                provider_id=info.provider_id,
                source_kind=source_kind,
                source=source,
                connector_id=connector_id,
                parent_id=parent_id,
                mode=mode,
                format=fmt,
                encoding=encoding.normalize_name(encoding_name) if encoding_name else "",
                filename=Path(filename).name[:255],
                stored_path=stored.relative,
                deletions_path=deletions_rel,
                bytes=stored.size,
                digest=stored.digest,
                status=BatchStatus.pending,
                high_water=high_water() if callable(high_water) else high_water,
                created_by=actor.username,
            )
            session.add(batch)
            session.flush()
            return Received(batch.id)
    except BaseException:
        for path in removable:
            path.unlink(missing_ok=True)
        raise


# -- reading ------------------------------------------------------------------------------


def can_read(actor: Actor, batch: Batch) -> None:
    """Batches and quarantine belong to their provider (and the operator's staff)."""
    staff = {Role.platform_admin, Role.operator, Role.auditor}
    if actor.roles & staff:
        return
    if actor.organization_id == batch.provider_id and actor.roles & {
        Role.data_officer,
        Role.dept_admin,
    }:
        return
    raise Forbidden(f"batch {batch.id} belongs to another organization")


def get(session: Session, batch_id: int) -> Batch:
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise NotFound(f"no delivery batch with id {batch_id}")
    return batch


def listing(
    actor: Actor,
    *,
    resource: str | None = None,
    status: str | None = None,
    after: int | None = None,
    limit: int = 50,
) -> Select[Any]:
    stmt = select(Batch).order_by(Batch.id.desc()).limit(limit + 1)
    if not actor.roles & {Role.platform_admin, Role.operator, Role.auditor}:
        stmt = stmt.where(Batch.provider_id == (actor.organization_id or -1))
    if resource:
        stmt = stmt.where(Batch.resource_code == resource)
    if status:
        try:
            stmt = stmt.where(Batch.status == BatchStatus(status))
        except ValueError:
            names = ", ".join(s.value for s in BatchStatus)
            raise ValidationFailed(f"status {status!r} is not one of {names}") from None
    if after is not None:
        stmt = stmt.where(Batch.id < after)
    return stmt


def quarantine_page(
    session: Session, batch_id: int, *, after: int = 0, limit: int = 100, only_open: bool = False
) -> list[QuarantineRow]:
    stmt = (
        select(QuarantineRow)
        .where(QuarantineRow.batch_id == batch_id, QuarantineRow.id > after)
        .order_by(QuarantineRow.id)
        .limit(limit + 1)
    )
    if only_open:
        stmt = stmt.where(QuarantineRow.status == QuarantineStatus.open)
    return list(session.scalars(stmt))


def quarantine_csv(
    factory: sessionmaker[Session], batch_id: int, item_codes: list[str]
) -> Iterator[bytes]:
    """The quarantined rows as CSV (UTF-8 with BOM, for spreadsheets): the delivered
    values under their item codes, then the row number and the reasons. Correct the
    values and deliver the file back with POST /deliveries/{id}/resubmit."""
    yield b"\xef\xbb\xbf"
    header = [*item_codes, "_row", "_reasons"]
    yield _csv_line(header)
    last = 0
    while True:
        with factory() as session:
            rows = quarantine_page(session, batch_id, after=last, limit=5000, only_open=True)
        if not rows:
            return
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        for row in rows[:5000]:
            data = json.loads(row.data)
            writer.writerow(
                [_cell(data.get(c)) for c in item_codes] + [row.row_number, row.reasons]
            )
        yield out.getvalue().encode("utf-8")
        last = rows[min(len(rows), 5000) - 1].id
        if len(rows) <= 5000:
            return


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def _csv_line(values: list[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values)
    return out.getvalue().encode("utf-8")


def check_resubmittable(session: Session, parent: Batch) -> None:
    if parent.status is not BatchStatus.completed:
        raise Conflict(
            f"batch {parent.id} is {parent.status.value}; only completed batches have a "
            "quarantine to correct"
        )
    has_open = session.scalar(
        select(QuarantineRow.id)
        .where(QuarantineRow.batch_id == parent.id, QuarantineRow.status == QuarantineStatus.open)
        .limit(1)
    )
    if has_open is None:
        raise Conflict(f"batch {parent.id} has no open quarantined rows to correct")


__all__ = ["FileFormat"]
