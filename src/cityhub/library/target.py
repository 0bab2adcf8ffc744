"""Where a delivered resource's rows go: a base library (directly, or through a department
feed), or the resource's own keyed table. Plain resources declare their key items here
(the catalog has no key flag); a resource without a declared key is keyed by the
fingerprint of the whole row (identical rows are one row; updates are new rows)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from cityhub.core.db import utcnow
from cityhub.errors import NotFound, ValidationFailed
from cityhub.gateway import resources
from cityhub.library import datastore as ds
from cityhub.library.derived import BY_RESOURCE as DERIVED
from cityhub.library.golden import Layout
from cityhub.library.models import LibraryKey
from cityhub.library.specs import BY_RESOURCE, FEEDS, FeedSpec, LibrarySpec


@dataclass(frozen=True)
class Target:
    resource_code: str  # the delivered resource
    layout: Layout  # the table its rows land in
    owner: str  # the organization code that owns the delivered resource
    library: LibrarySpec | None = None
    feed: FeedSpec | None = None
    columns: tuple[str, ...] = ()  # the datastore columns a delivery may carry

    @property
    def stored_code(self) -> str:
        """The resource whose table holds the rows (the library's, for a feed)."""
        return self.layout.spec.resource_code


def library_layout(lib: LibrarySpec) -> Layout:
    return lib.layout


def declared_key(session: Session, resource_code: str) -> tuple[str, ...]:
    row = session.get(LibraryKey, resource_code)
    return tuple(row.items) if row is not None else ()


def set_key(session: Session, resource_code: str, items: list[str], actor: str = "") -> None:
    """Declare the key items of a plain resource (item codes, in order)."""
    info = resources.load(session, resource_code)
    unknown = [i for i in items if info.item(i) is None]
    if unknown:
        raise ValidationFailed(
            f"resource {resource_code} has no item(s) {', '.join(unknown)}; "
            f"it has: {', '.join(i.code for i in info.items)}"
        )
    if not items:
        raise ValidationFailed("a key needs at least one item")
    codes = [info.item(i).code for i in items]  # type: ignore[union-attr]
    row = session.get(LibraryKey, resource_code)
    if row is None:
        session.add(LibraryKey(resource_code=resource_code, items=codes, updated_by=actor))
    else:
        row.items, row.updated_at, row.updated_by = codes, utcnow(), actor
    session.flush()


def target_of(session: Session, resource_code: str) -> Target:
    lib = BY_RESOURCE.get(resource_code)
    if lib is not None:
        layout = library_layout(lib)
        columns = tuple(c.name for c in layout.spec.columns)
        return Target(resource_code, layout, lib.registrar, lib, None, columns)
    derivation = DERIVED.get(resource_code)
    if derivation is not None:
        layout = Layout(derivation.table_spec, tuple(ds.column_name(k) for k in derivation.key))
        columns = tuple(c.name for c in layout.spec.columns)
        return Target(resource_code, layout, derivation.owner, None, None, columns)
    if resource_code in FEEDS:
        lib, feed = FEEDS[resource_code]
        columns = tuple(lib.by_code[c].column for c in feed.fields)
        return Target(resource_code, library_layout(lib), feed.provider, lib, feed, columns)
    info = resources.load(session, resource_code)
    if not info.tabular:
        raise ValidationFailed(
            f"resource {resource_code} is a {info.format.value} resource; only tables are merged"
        )
    if not info.items:
        raise ValidationFailed(f"resource {resource_code} has no information items")
    key_items = declared_key(session, resource_code)
    key_columns = tuple(ds.column_name(k) for k in key_items)
    missing = [k for k in key_columns if k not in {c.name for c in info.table_spec.columns}]
    if missing:
        raise NotFound(
            f"the declared key of {resource_code} names items it no longer has: "
            f"{', '.join(missing)}"
        )
    layout = Layout(info.table_spec, key_columns)
    columns = tuple(c.name for c in info.table_spec.columns)
    return Target(resource_code, layout, info.provider_code, None, None, columns)
