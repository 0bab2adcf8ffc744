"""Everything a batch needs before its first row is merged: the resource, its keys and
rules, the column mapping, and the stored file opened (encoding and shape checked).

A problem found here fails the batch with a clear message and merges nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from cityhub.catalog.vocab import Status
from cityhub.errors import ValidationFailed
from cityhub.exchange import intake, mapping, merging, readers, rules
from cityhub.exchange.models import Batch
from cityhub.exchange.vocab import FileFormat, Mode, SourceKind
from cityhub.gateway import resources
from cityhub.gateway.resources import ResourceInfo

RESERVED = frozenset({"_row", "_reasons"})  # columns of a quarantine download


@dataclass(frozen=True)
class BatchRef:
    """A plain snapshot of the batch row (ORM objects do not outlive their session)."""

    id: int
    resource_code: str
    provider_id: int
    source_kind: SourceKind
    source: str
    mode: Mode
    format: FileFormat
    encoding: str
    stored_path: str
    deletions_path: str
    digest: str
    bytes: int
    parent_id: int | None
    connector_id: int | None
    high_water: str | None
    created_by: str

    @classmethod
    def of(cls, batch: Batch) -> BatchRef:
        return cls(
            batch.id,
            batch.resource_code,
            batch.provider_id,
            batch.source_kind,
            batch.source,
            batch.mode,
            batch.format,
            batch.encoding,
            batch.stored_path,
            batch.deletions_path,
            batch.digest,
            batch.bytes,
            batch.parent_id,
            batch.connector_id,
            batch.high_water,
            batch.created_by,
        )


@dataclass(frozen=True)
class Prepared:
    batch: BatchRef
    info: ResourceInfo
    target: rules.Target
    landing: merging.Landing
    source: readers.Source
    rename: dict[str, str]  # source header → item code
    deletions: readers.Source | None = None
    deletion_rename: dict[str, str] | None = None

    def cleanup(self) -> None:
        self.source.cleanup()
        if self.deletions is not None:
            self.deletions.cleanup()


def check_resource(info: ResourceInfo) -> None:
    if not info.tabular:
        raise ValidationFailed(
            f"resource {info.code} is a {info.format.value} resource; only tabular resources "
            "take deliveries"
        )
    if info.status is Status.withdrawn:
        raise ValidationFailed(f"resource {info.code} is withdrawn; it takes no deliveries")
    if not info.items:
        raise ValidationFailed(f"resource {info.code} has no information items yet")


def target_of(session: Session, info: ResourceInfo) -> tuple[rules.Target, merging.Landing]:
    landed = merging.landing(session, info)
    target = rules.effective(info, landed.key_items, rules.declared(session, info.code))
    return target, landed


def _stored(data_dir: Path, relative: str, digest: str, size: int) -> intake.StoredFile:
    """The stored file as intake described it, re-checked for UTF-8 from disk."""
    path = (data_dir / relative).resolve()
    if not path.is_file():
        raise ValidationFailed(f"the stored file of this batch is gone ({relative})")
    with path.open("rb") as src:
        head = src.read(65536)
    check = intake.check_file(path)
    return intake.StoredFile(path, relative, size, digest, check, head)


def _header(columns: tuple[str, ...]) -> list[str]:
    return [c for c in columns if c not in RESERVED]


def prepare(session: Session, batch: BatchRef, data_dir: Path) -> Prepared:
    info = resources.load(session, batch.resource_code)
    check_resource(info)
    target, landed = target_of(session, info)
    stored = _stored(data_dir, batch.stored_path, batch.digest, batch.bytes)
    declared = batch.encoding or None
    source = readers.open_source(stored, batch.format, declared)
    try:
        header = _header(source.columns)
        if batch.mode is Mode.full and mapping.OP_COLUMN in header:
            raise ValidationFailed(
                "a full delivery has no _op column: it is the whole data set (use "
                "mode=incremental for upserts and deletions)"
            )
        source_name = "resubmit" if batch.source_kind is SourceKind.resubmit else batch.source
        stored_map = (
            None
            if batch.source_kind is SourceKind.resubmit
            else mapping.stored(session, info.code, batch.source)
        )
        rename = mapping.resolve(target, header, stored_map, source_name)
        deletions = None
        deletion_rename = None
        if batch.deletions_path:
            deletions, deletion_rename = _deletions(batch, data_dir, target, session)
    except BaseException:
        source.cleanup()
        raise
    return Prepared(batch, info, target, landed, source, rename, deletions, deletion_rename)


def _deletions(
    batch: BatchRef, data_dir: Path, target: rules.Target, session: Session
) -> tuple[readers.Source, dict[str, str]]:
    """A separate list of deleted keys: a file whose columns are the key items."""
    path = (data_dir / batch.deletions_path).resolve()
    stored = intake.StoredFile(
        path, batch.deletions_path, path.stat().st_size, "", intake.check_file(path), b""
    )
    with path.open("rb") as src:
        head = src.read(65536)
    fmt = readers.detect_format(path.name, head)
    source = readers.open_source(stored, fmt, None)
    header = _header(source.columns)
    by_key = {k.lower(): k for k in target.keys}
    for item in target.items:
        if item.code in target.keys:
            by_key[item.name] = item.code
    rename = {h: by_key[h.lower()] if h.lower() in by_key else by_key.get(h, "") for h in header}
    unknown = [h for h, code in rename.items() if not code]
    missing = [k for k in target.keys if k not in rename.values()]
    if unknown or missing or not target.keys:
        source.cleanup()
        raise ValidationFailed(
            "the deletions list must have exactly the key column(s) "
            f"{', '.join(target.keys) or '(the resource has no declared key)'}"
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
        )
    return source, rename
