"""Applications (应用) and their API keys. No web imports.

An application key is an ordinary platform API key (security's `api_keys`: prefix and
SHA-256 digest only) issued to the application's owner and linked to the application in
`gateway_application_keys`. It therefore authenticates as the owner everywhere, and as
the application on the gateway's data endpoints. Rotation issues a new key and lets the
old one run out after `CITYHUB_KEY_ROTATION_GRACE_HOURS`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhub.core.db import utcnow
from cityhub.core.events import emit
from cityhub.directory.models import Organization
from cityhub.errors import Conflict, Forbidden, NotFound, ValidationFailed
from cityhub.gateway.limits import today_counts
from cityhub.gateway.models import Application, ApplicationKey, AppStatus
from cityhub.gateway.schemas import (
    ApplicationCreate,
    ApplicationLimits,
    ApplicationPublic,
    ApplicationUpdate,
    KeyIssued,
    KeyPublic,
    KeyStatus,
)
from cityhub.security import service as security
from cityhub.security.models import ApiKey, Role, User
from cityhub.settings import Settings

SEE_ALL = frozenset({Role.platform_admin, Role.operator, Role.auditor})
SET_LIMITS = frozenset({Role.platform_admin, Role.operator})


# -- permissions --------------------------------------------------------------------------


def can_see(user: User, app: Application) -> bool:
    return bool(user.roles & SEE_ALL) or user.organization_id == app.organization_id


def check_manage(user: User, app: Application) -> None:
    """Details and keys: the developers of the application's organization."""
    if Role.developer not in user.roles:
        raise Forbidden("managing applications needs the developer role")
    if user.organization_id != app.organization_id:
        raise Forbidden(f"application {app.id} belongs to another organization")


# -- applications -------------------------------------------------------------------------


def create(
    session: Session, user: User, data: ApplicationCreate, settings: Settings
) -> Application:
    if Role.developer not in user.roles:
        raise Forbidden("registering an application needs the developer role")
    duplicate = session.scalar(
        select(Application.id).where(
            Application.organization_id == user.organization_id, Application.name == data.name
        )
    )
    if duplicate is not None:
        raise Conflict(f"your organization already has an application named {data.name!r}")
    app = Application(
        **data.model_dump(),
        organization_id=user.organization_id,
        owner_id=user.id,
        status=AppStatus.active,
        rate_limit=settings.app_rate_limit,
        burst=settings.app_rate_limit * 2,
        daily_calls=settings.app_daily_calls,
        daily_rows=settings.app_daily_rows,
    )
    session.add(app)
    session.flush()
    emit(
        session,
        "gateway.application.created",
        {"application_id": app.id, "organization_id": app.organization_id},
        actor=user.username,
    )
    return app


def get(session: Session, app_id: int, user: User | None = None) -> Application:
    app = session.get(Application, app_id)
    if app is None or (user is not None and not can_see(user, app)):
        raise NotFound(f"no application with id {app_id}")
    return app


def list_for(
    session: Session, user: User, *, limit: int, after_id: int | None = None, mine: bool = False
) -> list[Application]:
    stmt = select(Application).order_by(Application.id).limit(limit)
    if mine or not user.roles & SEE_ALL:
        stmt = stmt.where(Application.organization_id == user.organization_id)
    if after_id is not None:
        stmt = stmt.where(Application.id > after_id)
    return list(session.scalars(stmt))


def update(session: Session, user: User, app: Application, data: ApplicationUpdate) -> Application:
    check_manage(user, app)
    changes = data.model_dump(exclude_unset=True)
    if (name := changes.get("name")) and name != app.name:
        clash = session.scalar(
            select(Application.id).where(
                Application.organization_id == app.organization_id, Application.name == name
            )
        )
        if clash is not None:
            raise Conflict(f"your organization already has an application named {name!r}")
    for field, value in changes.items():
        if value is not None:
            setattr(app, field, value)
    session.flush()
    return app


def set_limits(
    session: Session, user: User, app: Application, data: ApplicationLimits
) -> Application:
    if not user.roles & SET_LIMITS:
        raise Forbidden("limits and status are set by platform admins and operators")
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
    if not changes:
        raise ValidationFailed(
            "give at least one of rate_limit, burst, daily_calls, daily_rows, status"
        )
    for field, value in changes.items():
        setattr(app, field, value)
    if app.burst < app.rate_limit:
        raise ValidationFailed(
            f"burst ({app.burst}) must be at least the rate limit ({app.rate_limit})"
        )
    session.flush()
    emit(
        session,
        "gateway.application.limits",
        {"application_id": app.id, **{k: str(v) for k, v in changes.items()}},
        actor=user.username,
    )
    return app


def public(session: Session, app: Application, today: date) -> ApplicationPublic:
    """The application as shown, with its calls and rows of `today` (local day)."""
    owner = session.get(User, app.owner_id)
    calls, rows = today_counts(session, app.id, today)
    org = session.get(Organization, app.organization_id)
    return ApplicationPublic(
        id=app.id,
        name=app.name,
        description=app.description,
        purpose=app.purpose,
        contact_name=app.contact_name,
        contact_phone=app.contact_phone,
        contact_email=app.contact_email,
        organization=org.code if org else "",
        organization_name=org.name_zh if org else "",
        owner=owner.username if owner else "",
        status=app.status,
        rate_limit=app.rate_limit,
        burst=app.burst,
        daily_calls=app.daily_calls,
        daily_rows=app.daily_rows,
        created_at=app.created_at,
        calls_today=calls,
        rows_today=rows,
    )


# -- keys ---------------------------------------------------------------------------------


def _key_status(key: ApiKey, now: datetime) -> KeyStatus:
    status = security.key_status(key, now)
    if status == "active" and key.expires_at is not None:
        return "expiring"
    return status


def key_public(key: ApiKey, link: ApplicationKey, now: datetime | None = None) -> KeyPublic:
    return KeyPublic(
        id=key.id,
        prefix=key.prefix,
        name=key.name,
        status=_key_status(key, now or utcnow()),
        created_at=key.created_at,
        expires_at=key.expires_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
        replaces_id=link.replaces_id,
    )


def list_keys(session: Session, user: User, app: Application) -> list[KeyPublic]:
    check_manage_or_admin(user, app)
    rows = session.execute(
        select(ApiKey, ApplicationKey)
        .join(ApplicationKey, ApplicationKey.api_key_id == ApiKey.id)
        .where(ApplicationKey.application_id == app.id)
        .order_by(ApiKey.id)
    ).all()
    now = utcnow()
    return [key_public(key, link, now) for key, link in rows]


def check_manage_or_admin(user: User, app: Application) -> None:
    if Role.platform_admin in user.roles:
        return
    check_manage(user, app)


def _issue(
    session: Session, app: Application, name: str, replaces: int | None
) -> tuple[ApiKey, ApplicationKey, str]:
    owner = session.get(User, app.owner_id)
    if owner is None or not owner.is_active:
        raise Conflict(
            f"the owner of application {app.id} is disabled; a platform admin must hand the "
            "application to another developer first"
        )
    key, raw = security.create_api_key(session, owner, name or f"app:{app.id}")
    link = ApplicationKey(api_key_id=key.id, application_id=app.id, replaces_id=replaces)
    session.add(link)
    session.flush()
    return key, link, raw


def issue_key(session: Session, user: User, app: Application, name: str = "") -> KeyIssued:
    check_manage(user, app)
    if app.status is not AppStatus.active:
        raise Conflict(f"application {app.id} is suspended; no new keys")
    key, link, raw = _issue(session, app, name, None)
    emit(
        session,
        "security.apikey.created",
        {"application_id": app.id, "key_prefix": key.prefix},
        actor=user.username,
    )
    return KeyIssued(**key_public(key, link).model_dump(), key=raw)


def _app_key(session: Session, app: Application, key_id: int) -> tuple[ApiKey, ApplicationKey]:
    link = session.get(ApplicationKey, key_id)
    key = session.get(ApiKey, key_id)
    if link is None or key is None or link.application_id != app.id:
        raise NotFound(f"application {app.id} has no key with id {key_id}")
    return key, link


def rotate_key(
    session: Session, user: User, app: Application, key_id: int, settings: Settings
) -> KeyIssued:
    """A new key; the old one keeps working for the grace period, then expires."""
    check_manage(user, app)
    old, old_link = _app_key(session, app, key_id)
    now = utcnow()
    if security.key_status(old, now) != "active":
        raise Conflict(f"key {key_id} is {security.key_status(old, now)}; issue a new key instead")
    if old.expires_at is not None:
        raise Conflict(f"key {key_id} was already rotated; it expires at {old.expires_at}")
    key, link, raw = _issue(session, app, old.name, old.id)
    old.expires_at = now + timedelta(hours=settings.key_rotation_grace_hours)
    if settings.key_rotation_grace_hours == 0:
        old.revoked_at = now
    session.flush()
    emit(
        session,
        "security.apikey.created",
        {"application_id": app.id, "key_prefix": key.prefix, "replaces_prefix": old.prefix},
        actor=user.username,
    )
    return KeyIssued(
        **key_public(key, link, now).model_dump(), key=raw, replaced=key_public(old, old_link, now)
    )


def revoke_key(session: Session, user: User, app: Application, key_id: int) -> KeyPublic:
    check_manage_or_admin(user, app)
    key, link = _app_key(session, app, key_id)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        emit(
            session,
            "security.apikey.revoked",
            {"application_id": app.id, "key_prefix": key.prefix},
            actor=user.username,
        )
    session.flush()
    return key_public(key, link)
