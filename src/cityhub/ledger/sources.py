"""Built-in digest sources of the audit: what the notarized rows of other packages hold
today. Each imports its package lazily, so the ledger works without them.

- catalog.resource.published: the version's snapshot, its SHA-256 recomputed;
- exchange.batch.*: the batch row's digest and counts, and the SM3 of the delivered file
  kept in the data directory, recomputed.

Later packages (library snapshots, ...) register theirs with
`cityhub.ledger.audit.register_digest_source`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select

from cityhub.ledger.audit import AuditContext, register_digest_source

_BLOCK = 1 << 20


def catalog_version_today(ctx: AuditContext, data: dict[str, Any]) -> dict[str, Any] | None:
    from cityhub.catalog.models import Resource, ResourceVersion
    from cityhub.catalog.versions import digest_of

    code, version = data.get("code"), data.get("version")
    row = ctx.session.scalar(
        select(ResourceVersion)
        .join(Resource, Resource.id == ResourceVersion.resource_id)
        .where(Resource.code == code, ResourceVersion.version == version)
    )
    if row is None:
        return None
    recomputed = digest_of(json.loads(row.snapshot))
    if row.digest != recomputed:  # the stored digest and the content disagree already
        return {"digest": f"{row.digest} (stored) / {recomputed} (recomputed)"}
    return {"digest": recomputed}


def exchange_batch_today(ctx: AuditContext, data: dict[str, Any]) -> dict[str, Any] | None:
    from cityhub.exchange.models import Batch

    batch_id = data.get("batch_id")
    if not isinstance(batch_id, int):
        return {}
    batch = ctx.session.get(Batch, batch_id)
    if batch is None:
        return None
    today: dict[str, Any] = {
        "resource_code": batch.resource_code,
        "sm3": batch.digest,
        "size": batch.bytes,
        "rows_in": batch.rows_in,
        "rows_accepted": batch.accepted,
        "rows_rejected": batch.rejected,
    }
    if ctx.data_dir is not None and batch.stored_path:
        path = ctx.data_dir / batch.stored_path
        if path.is_file():  # delivered files may be purged; when kept, they must match
            digest = hashlib.new("sm3")
            with path.open("rb") as src:
                while block := src.read(_BLOCK):
                    digest.update(block)
            if digest.hexdigest() != batch.digest:
                today["sm3"] = f"{digest.hexdigest()} (file)"
    return today


register_digest_source("catalog.resource.published", catalog_version_today)
register_digest_source("exchange.batch.completed", exchange_batch_today)
