"""What the gateway needs to know of a catalog resource, read once into a frozen snapshot.

The catalog owns resources and items; the gateway only reads them: their share type,
provider, items with masking rules, and the datastore table the items map to.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from cityhub.catalog.masking import MaskRule, parse_rule
from cityhub.catalog.models import Resource, ResourceItem
from cityhub.catalog.vocab import DataType, ResourceFormat, ShareType, Status
from cityhub.directory.models import Organization
from cityhub.errors import NotFound
from cityhub.library import datastore as ds

KIND_OF: dict[DataType, ds.ColumnKind] = {
    DataType.string: ds.ColumnKind.string,
    DataType.number: ds.ColumnKind.decimal,
    DataType.currency: ds.ColumnKind.decimal,
    DataType.date: ds.ColumnKind.date,
    DataType.datetime: ds.ColumnKind.datetime,
    DataType.boolean: ds.ColumnKind.boolean,
    DataType.text: ds.ColumnKind.text,
    DataType.binary: ds.ColumnKind.text,  # stored as base64 text
    DataType.double: ds.ColumnKind.float,
    DataType.integer: ds.ColumnKind.integer,
    DataType.float: ds.ColumnKind.float,
}
_SCALE = {DataType.currency: 2}
CACHE_SECONDS = 2.0


@dataclass(frozen=True)
class ItemInfo:
    code: str
    name: str
    column: str  # its column in the datastore table
    kind: ds.ColumnKind
    data_type: DataType
    length: int | None
    sensitivity: str
    masking: str  # "" when the item is never masked

    @property
    def title(self) -> str:
        return f"{self.name} ({self.code})"

    @cached_property
    def rule(self) -> MaskRule | None:
        return parse_rule(self.masking) if self.masking else None


@dataclass(frozen=True)
class ResourceInfo:
    id: int
    code: str
    name: str
    provider_id: int
    provider_code: str
    provider_name: str
    share_type: ShareType
    share_condition: str
    format: ResourceFormat
    status: Status
    version: int
    items: tuple[ItemInfo, ...]

    @property
    def published(self) -> bool:
        return self.status is Status.published

    @property
    def tabular(self) -> bool:
        return self.format is ResourceFormat.table

    @cached_property
    def by_code(self) -> dict[str, ItemInfo]:
        return {item.code: item for item in self.items}

    def item(self, code: str) -> ItemInfo | None:
        """An item by its code; case-insensitive as a courtesy to hand-typed URLs."""
        found = self.by_code.get(code)
        if found is None:
            lowered = code.lower()
            found = next((i for i in self.items if i.code.lower() == lowered), None)
        return found

    @cached_property
    def table_spec(self) -> ds.TableSpec:
        return ds.TableSpec(
            self.code,
            tuple(
                ds.ColumnSpec(
                    item.column,
                    item.kind,
                    length=item.length if item.kind is ds.ColumnKind.string else None,
                    scale=_SCALE.get(item.data_type, 4),
                    label=item.name,
                )
                for item in self.items
            ),
        )


_RESOURCE_COLUMNS = (
    Resource.id,
    Resource.code,
    Resource.name,
    Resource.provider_id,
    Organization.code,
    Organization.name_zh,
    Resource.share_type,
    Resource.share_condition,
    Resource.format,
    Resource.status,
    Resource.version,
)
_ITEM_COLUMNS = (
    ResourceItem.code,
    ResourceItem.name,
    ResourceItem.data_type,
    ResourceItem.length,
    ResourceItem.sensitivity,
    ResourceItem.masking,
)


def load(session: Session | Connection, code: str) -> ResourceInfo:
    """The resource `code` (any status), or NotFound. Two plain queries, no ORM loading."""
    row = session.execute(
        select(*_RESOURCE_COLUMNS)
        .join(Organization, Organization.id == Resource.provider_id)
        .where(Resource.code == code)
    ).first()
    if row is None:
        raise NotFound(f"no resource with code {code!r}")
    items = session.execute(
        select(*_ITEM_COLUMNS)
        .where(ResourceItem.resource_id == row[0])
        .order_by(ResourceItem.position)
    ).all()
    return ResourceInfo(
        id=row[0],
        code=row[1],
        name=row[2],
        provider_id=row[3],
        provider_code=row[4],
        provider_name=row[5],
        share_type=ShareType(row[6]),
        share_condition=row[7] or "",
        format=ResourceFormat(row[8]),
        status=Status(row[9]),
        version=row[10],
        items=tuple(
            ItemInfo(
                code=i.code,
                name=i.name,
                column=ds.column_name(i.code),
                kind=KIND_OF[DataType(i.data_type)],
                data_type=DataType(i.data_type),
                length=i.length,
                sensitivity=str(i.sensitivity),
                masking=i.masking or "",
            )
            for i in items
        ),
    )


def load_published_table(session: Session | Connection, code: str) -> ResourceInfo:
    """A published tabular resource: the only kind that has rows to serve."""
    info = load(session, code)
    if not info.published:
        raise NotFound(f"resource {code} is not published ({info.status.value})")
    if not info.tabular:
        raise NotFound(f"resource {code} is a {info.format.value} resource; it has no rows")
    return info


class ResourceCache:
    """Published-resource snapshots for the data path, per app (never shared across apps).

    An entry lives `ttl` seconds and is dropped at once when this process hears a catalog
    event about its resource; other workers see a change within `ttl`.
    """

    def __init__(self, ttl: float = CACHE_SECONDS) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, ResourceInfo]] = {}
        self._lock = threading.Lock()

    def published_table(self, conn: Session | Connection, code: str) -> ResourceInfo:
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(code)
        if hit is not None and hit[0] > now:
            return hit[1]
        info = load_published_table(conn, code)
        with self._lock:
            self._entries[code] = (now + self.ttl, info)
        return info

    def forget(self, code: str | None = None) -> None:
        with self._lock:
            if code is None:
                self._entries.clear()
            else:
                self._entries.pop(code, None)
