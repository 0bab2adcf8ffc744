"""Version history: every publication stores a canonical snapshot of the metadata, the
diff from the previous version and the snapshot's SHA-256 digest.

The snapshot holds content only (no status, no timestamps), so the digest names exactly
what was published; the ledger notarizes it from the `catalog.resource.published` event.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhub.catalog.models import Resource, ResourceVersion
from cityhub.catalog.schemas import VersionDetail, VersionPublic
from cityhub.errors import NotFound

DIGEST_ALGORITHM = "sha256"
_ITEM_FIELDS = ("name", "data_type", "length", "element_ref", "sensitivity", "masking")


def snapshot_of(resource: Resource) -> dict[str, Any]:
    """The published content of `resource` as plain JSON values."""
    return {
        "code": resource.code,
        "name": resource.name,
        "provider": {"code": resource.provider.code, "name_zh": resource.provider.name_zh},
        "summary": resource.summary,
        "category": resource.category.value,
        "format": resource.format.value,
        "share_type": resource.share_type.value,
        "share_condition": resource.share_condition,
        "sharing_method": resource.sharing_method.value if resource.sharing_method else None,
        "open_type": resource.open_type.value,
        "open_condition": resource.open_condition,
        "update_cycle": resource.update_cycle.value,
        "related_codes": list(resource.related_codes or []),
        "regions": resource.region_codes,
        "keywords": resource.keywords,
        "items": [
            {
                "code": i.code,
                "name": i.name,
                "data_type": i.data_type.value,
                "length": i.length,
                "element_ref": i.element_ref,
                "sensitivity": i.sensitivity.value,
                "masking": i.masking,
            }
            for i in resource.items
        ],
    }


def canonical(snapshot: dict[str, Any]) -> str:
    return json.dumps(snapshot, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def digest_of(snapshot: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(snapshot).encode()).hexdigest()


def diff(before: dict[str, Any] | None, after: dict[str, Any]) -> dict[str, Any]:
    """What changed between two snapshots: `{field: {"from", "to"}}`, and for items
    `{"items": {"added": [...], "removed": [...], "changed": {code: {field: ...}}}}`."""
    if before is None:
        return {"initial": True}
    out: dict[str, Any] = {}
    for key in sorted(set(before) | set(after)):
        if key == "items":
            continue
        if before.get(key) != after.get(key):
            out[key] = {"from": before.get(key), "to": after.get(key)}
    old = {i["code"]: i for i in before.get("items", [])}
    new = {i["code"]: i for i in after.get("items", [])}
    changed = {
        code: {
            f: {"from": old[code].get(f), "to": new[code].get(f)}
            for f in _ITEM_FIELDS
            if old[code].get(f) != new[code].get(f)
        }
        for code in old.keys() & new.keys()
    }
    changed = {code: fields for code, fields in sorted(changed.items()) if fields}
    added = [c for c in new if c not in old]
    removed = [c for c in old if c not in new]
    order_changed = [c for c in old if c in new] != [c for c in new if c in old]
    if added or removed or changed or order_changed:
        out["items"] = {"added": added, "removed": removed, "changed": changed}
        if order_changed:
            out["items"]["reordered"] = True
    return out


def latest(session: Session, resource: Resource) -> ResourceVersion | None:
    return session.scalar(
        select(ResourceVersion)
        .where(ResourceVersion.resource_id == resource.id)
        .order_by(ResourceVersion.version.desc())
        .limit(1)
    )


def record_version(
    session: Session, resource: Resource, published_by: str, comment: str = ""
) -> ResourceVersion:
    """A new version of the resource as it is now."""
    previous = latest(session, resource)
    snapshot = snapshot_of(resource)
    row = ResourceVersion(
        resource_id=resource.id,
        version=(previous.version if previous else 0) + 1,
        snapshot=canonical(snapshot),
        diff=json.dumps(
            diff(json.loads(previous.snapshot) if previous else None, snapshot),
            ensure_ascii=False,
        ),
        digest=digest_of(snapshot),
        published_by=published_by,
        comment=comment,
    )
    session.add(row)
    session.flush()
    return row


def list_versions(session: Session, resource: Resource) -> list[VersionPublic]:
    rows = session.scalars(
        select(ResourceVersion)
        .where(ResourceVersion.resource_id == resource.id)
        .order_by(ResourceVersion.version.desc())
    )
    return [_public(r) for r in rows]


def get_version(session: Session, resource: Resource, number: int) -> VersionDetail:
    row = session.scalar(
        select(ResourceVersion).where(
            ResourceVersion.resource_id == resource.id, ResourceVersion.version == number
        )
    )
    if row is None:
        raise NotFound(f"resource {resource.code} has no version {number}")
    return VersionDetail(**_public(row).model_dump(), snapshot=json.loads(row.snapshot))


def _public(row: ResourceVersion) -> VersionPublic:
    return VersionPublic(
        version=row.version,
        digest=row.digest,
        published_at=row.published_at,
        published_by=row.published_by,
        comment=row.comment,
        diff=json.loads(row.diff),
    )
