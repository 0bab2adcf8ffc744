"""Publication workflow: draft → in_review → published → withdrawn, and back to draft.

    submit    draft | withdrawn → in_review   the provider's data officers / dept admins
    approve   in_review → published           a platform admin; makes a new version
    reject    in_review → draft               a platform admin, with a reason
    withdraw  published → withdrawn           a platform admin or the provider, with a reason
    (update)  withdrawn → draft               changing a withdrawn resource reopens it

Every step is recorded (who, when, comment), audited and announced on the outbox.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from cityhub.catalog.models import Resource
from cityhub.catalog.service import Actor, record_step, require_editor
from cityhub.catalog.versions import DIGEST_ALGORITHM, record_version
from cityhub.catalog.vocab import Status
from cityhub.core.db import utcnow
from cityhub.core.events import emit
from cityhub.errors import Conflict, Forbidden, ValidationFailed

# Publish dates are calendar dates in China Standard Time, as the national catalog keeps them.
CHINA: Final = ZoneInfo("Asia/Shanghai")
ACTIONS: Final = ("submit", "approve", "reject", "withdraw")


def local_date(moment: datetime) -> date:
    return moment.astimezone(CHINA).date()


def _expect(resource: Resource, action: str, *allowed: Status) -> None:
    if resource.status not in allowed:
        wanted = " or ".join(s.value for s in allowed)
        raise Conflict(
            f"cannot {action} resource {resource.code}: it is {resource.status.value}, not {wanted}"
        )


def _require_admin(actor: Actor, action: str) -> None:
    if not actor.is_admin:
        raise Forbidden(f"only a platform admin may {action} a resource's publication")


def _require_comment(comment: str, action: str) -> str:
    comment = comment.strip()
    if not comment:
        raise ValidationFailed(f"comment: a reason is required to {action}")
    return comment


def submit(session: Session, resource: Resource, actor: Actor, comment: str = "") -> Resource:
    require_editor(actor, resource)
    _expect(resource, "submit", Status.draft, Status.withdrawn)
    before, resource.status = resource.status, Status.in_review
    resource.updated_at = utcnow()
    record_step(session, resource, "submit", actor, before, comment.strip())
    emit(
        session,
        "catalog.resource.submitted",
        {"code": resource.code, "provider": resource.provider.code},
        actor=actor.username,
    )
    return resource


def approve(session: Session, resource: Resource, actor: Actor, comment: str = "") -> Resource:
    """Publish: a new version with its snapshot, diff and digest, notarized via the outbox."""
    _require_admin(actor, "approve")
    _expect(resource, "approve", Status.in_review)
    now = utcnow()
    before, resource.status = resource.status, Status.published
    version = record_version(session, resource, actor.username, comment.strip())
    resource.version = version.version
    resource.published_at = now
    resource.updated_at = now
    if resource.publish_date is None:
        resource.publish_date = local_date(now)
    record_step(session, resource, "approve", actor, before, comment.strip())
    emit(
        session,
        "catalog.resource.published",
        {
            "code": resource.code,
            "provider": resource.provider.code,
            "version": version.version,
            "digest": version.digest,
            "algorithm": DIGEST_ALGORITHM,
            "published_at": now.isoformat(),
        },
        actor=actor.username,
    )
    return resource


def reject(session: Session, resource: Resource, actor: Actor, comment: str = "") -> Resource:
    _require_admin(actor, "reject")
    _expect(resource, "reject", Status.in_review)
    reason = _require_comment(comment, "reject")
    before, resource.status = resource.status, Status.draft
    resource.updated_at = utcnow()
    record_step(session, resource, "reject", actor, before, reason)
    emit(
        session,
        "catalog.resource.rejected",
        {"code": resource.code, "provider": resource.provider.code, "reason": reason},
        actor=actor.username,
    )
    return resource


def withdraw(session: Session, resource: Resource, actor: Actor, comment: str = "") -> Resource:
    if not actor.is_admin:
        require_editor(actor, resource)
    _expect(resource, "withdraw", Status.published)
    reason = _require_comment(comment, "withdraw")
    before, resource.status = resource.status, Status.withdrawn
    resource.updated_at = utcnow()
    record_step(session, resource, "withdraw", actor, before, reason)
    emit(
        session,
        "catalog.resource.withdrawn",
        {
            "code": resource.code,
            "provider": resource.provider.code,
            "version": resource.version,
            "reason": reason,
        },
        actor=actor.username,
    )
    return resource


def act(session: Session, resource: Resource, action: str, actor: Actor, comment: str) -> Resource:
    """Dispatch one of ACTIONS (the API's and the pages' single entry)."""
    steps = {"submit": submit, "approve": approve, "reject": reject, "withdraw": withdraw}
    if action not in steps:
        raise ValidationFailed(f"unknown action {action!r}; use {', '.join(ACTIONS)}")
    return steps[action](session, resource, actor, comment)
