"""Passwords, API keys, web sessions and login throttling. No web imports."""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session, joinedload, sessionmaker

from cityhub.core.db import utcnow
from cityhub.core.events import emit
from cityhub.core.times import as_utc
from cityhub.errors import (
    CityHubError,
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
)
from cityhub.security import audit
from cityhub.security.models import ApiKey, LoginFailure, Role, User, UserRole, WebSession
from cityhub.settings import Settings

_hasher = PasswordHasher()
API_KEY_PREFIX = "chk_"
# Verifying against a dummy hash keeps the time of "no such user" equal to "wrong password".
_DUMMY_HASH = _hasher.hash("cityhub-timing-equaliser")
PASSWORD_MIN_LENGTH = 10
# GB/T 39477 separation of duties: whoever audits must not administer or operate.
AUDIT_EXCLUSIVE = frozenset({Role.platform_admin, Role.operator})
KeyStatus = Literal["active", "revoked", "expired"]


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# -- passwords ----------------------------------------------------------------


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None when it meets the policy."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"the password must have at least {PASSWORD_MIN_LENGTH} characters"
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        return "the password must contain both letters and digits"
    return None


def check_password_policy(password: str) -> str:
    if (problem := password_problem(password)) is not None:
        raise ValidationFailed(problem)
    return password


# -- users --------------------------------------------------------------------


def check_separation(roles: Iterable[Role]) -> None:
    """Refuse a role set that mixes audit with administration or operation."""
    held = set(roles)
    if Role.auditor in held and held & AUDIT_EXCLUSIVE:
        mixed = ", ".join(sorted(r.value for r in held & AUDIT_EXCLUSIVE))
        raise Forbidden(
            f"separation of duties: the auditor role cannot be held together with {mixed}"
        )


def create_user(
    session: Session,
    *,
    username: str,
    organization_id: int,
    roles: set[Role] | list[Role],
    password: str | None = None,
    display_name: str = "",
) -> User:
    """The primitive every path uses; permission checks are the caller's (see accounts)."""
    check_separation(Role(r) for r in roles)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists")
    user = User(
        username=username,
        display_name=display_name or username,
        organization_id=organization_id,
        password_hash=hash_password(password) if password else None,
    )
    user.role_rows = [UserRole(role=Role(r)) for r in sorted(set(roles))]
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user named {username!r}")
    return user


# -- API keys -----------------------------------------------------------------


def key_status(key: ApiKey, now: datetime | None = None) -> KeyStatus:
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and as_utc(key.expires_at) <= (now or utcnow()):
        return "expired"
    return "active"


def create_api_key(
    session: Session, user: User, name: str = "", expires_at: datetime | None = None
) -> tuple[ApiKey, str]:
    """A new key; the raw value is returned once and never stored."""
    if expires_at is not None and as_utc(expires_at) <= utcnow():
        raise ValidationFailed("expires_at must be in the future")
    prefix = secrets.token_hex(4)
    raw = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        user_id=user.id, name=name, prefix=prefix, key_hash=sha256_hex(raw), expires_at=expires_at
    )
    session.add(key)
    session.flush()
    emit(session, "security.apikey.created", _key_event(key))  # notarized by the ledger
    return key, raw


def user_for_api_key(session: Session, raw: str) -> User:
    """The active user behind a key, or Unauthorized saying precisely why not."""
    return user_and_key_for_api_key(session, raw)[0]


def user_and_key_for_api_key(session: Session, raw: str) -> tuple[User, ApiKey]:
    parts = raw.removeprefix(API_KEY_PREFIX).split("_", 1)
    if not raw.startswith(API_KEY_PREFIX) or len(parts) != 2 or not all(parts):
        raise Unauthorized("the API key is malformed (expected chk_<prefix>_<secret>)")
    # One round trip for the key, its user, their organization and roles: every call pays it.
    found = (
        session.execute(
            select(ApiKey, User)
            .join(User, User.id == ApiKey.user_id)
            .where(ApiKey.prefix == parts[0])
            .options(joinedload(User.role_rows))
        )
        .unique()
        .one_or_none()
    )
    if found is None or not secrets.compare_digest(found[0].key_hash, sha256_hex(raw)):
        raise Unauthorized("unknown API key")
    key, user = found
    now = utcnow()
    status = key_status(key, now)
    if status == "revoked":
        raise Unauthorized("the API key was revoked")
    if status == "expired":
        raise Unauthorized("the API key has expired")
    if not user.is_active:
        raise Unauthorized("the API key's user is disabled")
    if key.last_used_at is None or now - as_utc(key.last_used_at) > timedelta(minutes=1):
        key.last_used_at = now  # coarse, so hot keys do not write on every call
    return user, key


def get_api_key(session: Session, key_id: int) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"no API key with id {key_id}")
    return key


def list_api_keys(
    session: Session, user: User, *, limit: int, after_id: int | None = None
) -> list[ApiKey]:
    stmt = select(ApiKey).where(ApiKey.user_id == user.id).order_by(ApiKey.id).limit(limit)
    if after_id is not None:
        stmt = stmt.where(ApiKey.id > after_id)
    return list(session.scalars(stmt))


def revoke_api_key(session: Session, key_id: int, *, by: User | None = None) -> ApiKey:
    """Revoke a key (idempotent). `by` is the caller; None means the operator's console."""
    key = get_api_key(session, key_id)
    if by is not None and key.user_id != by.id and Role.platform_admin not in by.roles:
        raise Forbidden(
            f"API key {key_id} belongs to another user; only a platform admin may revoke it"
        )
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        emit(session, "security.apikey.revoked", _key_event(key), actor=by.username if by else "")
    session.flush()
    return key


def _key_event(key: ApiKey) -> dict[str, object]:
    """Identifiers only: never the key or its hash."""
    return {
        "key_id": key.id,
        "key_prefix": key.prefix,
        "user_id": key.user_id,
        "expires_at": key.expires_at.isoformat() if key.expires_at else None,
    }


# -- web sessions -------------------------------------------------------------


def start_session(
    session: Session, user: User, settings: Settings, ip: str = "", user_agent: str = ""
) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=sha256_hex(token),
            user_id=user.id,
            expires_at=utcnow() + timedelta(hours=settings.session_hours),
            ip=ip[:64],
            user_agent=user_agent[:256],
        )
    )
    user.last_login_at = utcnow()
    return token


def user_for_session(session: Session, token: str) -> User | None:
    found = (
        session.execute(
            select(WebSession, User)
            .join(User, User.id == WebSession.user_id)
            .where(WebSession.token_hash == sha256_hex(token))
            .options(joinedload(User.role_rows))
        )
        .unique()
        .one_or_none()
    )
    if found is None or as_utc(found[0].expires_at) <= utcnow():
        return None
    user: User = found[1]
    return user if user.is_active else None


def end_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == sha256_hex(token)))


def end_sessions(session: Session, user: User, *, keep_token: str | None = None) -> None:
    """Log a user out everywhere (after a password change or deactivation)."""
    stmt = delete(WebSession).where(WebSession.user_id == user.id)
    if keep_token:
        stmt = stmt.where(WebSession.token_hash != sha256_hex(keep_token))
    session.execute(stmt)


# -- login with throttling ----------------------------------------------------


def _in_minutes(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def check_throttle(session: Session, username: str, ip: str, settings: Settings) -> None:
    """TooManyRequests while this account or address has too many recent failures."""
    now = utcnow()
    window = timedelta(minutes=settings.login_lockout_minutes)
    recent = session.scalars(
        select(LoginFailure.at)
        .where(LoginFailure.at >= now - window)
        .where(or_(LoginFailure.username == username, LoginFailure.ip == ip))
        .order_by(LoginFailure.at.desc())
        .limit(settings.login_max_failures)
    ).all()
    if len(recent) < settings.login_max_failures:
        return
    # Unlocked once the oldest of the last N failures leaves the window.
    wait = max(1, math.ceil((as_utc(recent[-1]) + window - now).total_seconds()))
    raise TooManyRequests(
        f"too many failed logins for this account or address; try again in {_in_minutes(wait)}",
        retry_after=wait,
    )


def authenticate(
    session: Session, username: str, password: str, settings: Settings, ip: str = ""
) -> User:
    """The user whose password this is; throttled after repeated failures."""
    check_throttle(session, username, ip, settings)
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not verify_password(user.password_hash, password):
        raise Unauthorized("wrong username or password")  # `login` records the failure
    if not user.is_active:  # said only to someone who knows the password
        raise Forbidden("this account is disabled; ask your administrator")
    return user


def login(
    factory: sessionmaker[Session],
    username: str,
    password: str,
    settings: Settings,
    ip: str = "",
    user_agent: str = "",
) -> tuple[User, str]:
    """Check the password and open a web session: (user, cookie token).

    A failure is recorded in its own transaction, so it counts even though the
    caller's request fails; success and failure are both audited (`auth.login`).
    """
    try:
        with factory() as session, session.begin():
            user = authenticate(session, username, password, settings, ip)
            token = start_session(session, user, settings, ip, user_agent)
            # The person got in from here: their earlier typos no longer count.
            session.execute(
                delete(LoginFailure).where(
                    LoginFailure.username == username, LoginFailure.ip == ip[:64]
                )
            )
            audit.record(
                session,
                actor=user.username,
                organization_id=user.organization_id,
                action="auth.login",
                target=f"user:{username}",
                ip=ip,
                status=200,
                detail={"credential": "password"},
            )
            return user, token
    except CityHubError as exc:
        with factory() as session, session.begin():
            if isinstance(exc, Unauthorized):
                session.add(LoginFailure(username=username[:64], ip=ip[:64]))
            audit.record(
                session,
                actor=username or "anonymous",
                action="auth.login",
                target=f"user:{username}",
                ip=ip,
                outcome=audit.outcome_for(exc.status),
                status=exc.status,
                detail={"reason": exc.detail, "authenticated": False},
            )
        raise
