"""Column mapping: which source header feeds which information item, per resource and
source (a department's upload, a connector...).

Without a stored mapping a header matches an item by its code (any case) or its Chinese
name (公民身份号码 → SFZH). With one, the header must be exactly the mapped columns. Either
way an unknown column, a missing key or a missing required item is a clear error naming
them, before any row is read. `_op` is the reserved operation column of incremental
deliveries.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhub.core.db import utcnow
from cityhub.errors import ValidationFailed
from cityhub.exchange.models import ColumnMapping
from cityhub.exchange.rules import Target
from cityhub.gateway.resources import ResourceInfo

OP_COLUMN = "_op"
MAX_SOURCE = 64


def stored(session: Session, resource_code: str, source: str) -> dict[str, str] | None:
    row = session.scalar(
        select(ColumnMapping).where(
            ColumnMapping.resource_code == resource_code, ColumnMapping.source == source
        )
    )
    return dict(row.columns) if row is not None else None


def save(
    session: Session, info: ResourceInfo, source: str, columns: dict[str, str], actor: str
) -> ColumnMapping:
    """Store the mapping of `source` after checking it names real items, each once."""
    if not source or len(source) > MAX_SOURCE:
        raise ValidationFailed(f"source must be 1 to {MAX_SOURCE} characters")
    if not columns:
        raise ValidationFailed("a mapping needs at least one column")
    items = {i.code for i in info.items}
    unknown = sorted({v for v in columns.values() if v not in items})
    if unknown:
        raise ValidationFailed(
            f"the mapping names {', '.join(unknown)}, which are not items of {info.code}; "
            f"its items are {', '.join(sorted(items))}"
        )
    targets = list(columns.values())
    twice = sorted({v for v in targets if targets.count(v) > 1})
    if twice:
        raise ValidationFailed(f"item(s) {', '.join(twice)} are mapped from two columns")
    row = session.scalar(
        select(ColumnMapping).where(
            ColumnMapping.resource_code == info.code, ColumnMapping.source == source
        )
    )
    if row is None:
        row = ColumnMapping(resource_code=info.code, source=source)
        session.add(row)
    row.columns = dict(columns)
    row.updated_at = utcnow()
    row.updated_by = actor
    session.flush()
    return row


def _default(info: ResourceInfo, header: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    by_key: dict[str, str] = {}
    for item in info.items:
        by_key[item.code.lower()] = item.code
        by_key[item.name.strip()] = item.code
    resolved: dict[str, str] = {}
    unknown: list[str] = []
    for name in header:
        code = by_key.get(name.lower()) or by_key.get(name.strip())
        if code is None:
            unknown.append(name)
        else:
            resolved[name] = code
    return resolved, unknown


def resolve(
    target: Target, header: Sequence[str], mapping: dict[str, str] | None, source: str
) -> dict[str, str]:
    """Header → item code for this delivery; ValidationFailed names every mismatch."""
    columns = [h for h in header if h != OP_COLUMN]
    info = target.info
    if mapping is not None:
        resolved = {h: mapping[h] for h in columns if h in mapping}
        unknown = [h for h in columns if h not in mapping]
        missing = [h for h in mapping if h not in columns]
        if unknown or missing:
            parts = []
            if missing:
                parts.append(f"missing column(s): {', '.join(missing)}")
            if unknown:
                parts.append(f"unknown column(s): {', '.join(unknown)}")
            raise ValidationFailed(
                f"the header does not match the mapping of source {source!r} for "
                f"{info.code}: " + "; ".join(parts),
                missing=missing,
                unknown=unknown,
            )
    else:
        resolved, unknown = _default(info, columns)
        if unknown:
            known = ", ".join(f"{i.code} ({i.name})" for i in info.items)
            raise ValidationFailed(
                f"unknown column(s) {', '.join(unknown)} for resource {info.code}; its items "
                f"are {known} (or store a column mapping for source {source!r})",
                unknown=unknown,
                missing=[],
            )
    codes = list(resolved.values())
    twice = sorted({c for c in codes if codes.count(c) > 1})
    if twice:
        raise ValidationFailed(f"several columns map to the item(s) {', '.join(twice)}")
    delivered = set(codes)
    needed = [
        i.code
        for i in info.items
        if (i.code in target.keys or target.rule(i.code).required)
        and i.code not in delivered
        and not _filled_by_address(target, i.code, delivered)
    ]
    if needed:
        raise ValidationFailed(
            f"missing column(s) for the key or required item(s): {', '.join(needed)}",
            missing=needed,
            unknown=[],
        )
    return resolved


def _filled_by_address(target: Target, code: str, delivered: set[str]) -> bool:
    return any(
        rule.check == "address" and rule.region_item == code and item in delivered
        for item, rule in target.rules.items()
    )
