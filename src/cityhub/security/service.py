"""Passwords, API keys, web sessions and login throttling. No web imports."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import utcnow
from cityhub.errors import Conflict, NotFound, TooManyRequests, Unauthorized
from cityhub.security import audit
from cityhub.security.models import ApiKey, LoginFailure, Role, User, UserRole, WebSession
from cityhub.settings import Settings

_hasher = PasswordHasher()
API_KEY_PREFIX = "chk_"
# Verifying against a dummy hash keeps the time of "no such user" equal to "wrong password".
_DUMMY_HASH = _hasher.hash("cityhub-timing-equaliser")


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return value if value.tzinfo else value.replace(tzinfo=utcnow().tzinfo)


# -- passwords ----------------------------------------------------------------


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


# -- users --------------------------------------------------------------------


def create_user(
    session: Session,
    *,
    username: str,
    organization_id: int,
    roles: set[Role] | list[Role],
    password: str | None = None,
    display_name: str = "",
) -> User:
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


def create_api_key(
    session: Session, user: User, name: str = "", expires_at: datetime | None = None
) -> tuple[ApiKey, str]:
    """A new key; the raw value is returned once and never stored."""
    prefix = secrets.token_hex(4)
    raw = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        user_id=user.id, name=name, prefix=prefix, key_hash=sha256_hex(raw), expires_at=expires_at
    )
    session.add(key)
    session.flush()
    return key, raw


def user_for_api_key(session: Session, raw: str) -> User:
    """The active user behind a key, or Unauthorized saying precisely why not."""
    parts = raw.removeprefix(API_KEY_PREFIX).split("_", 1)
    if not raw.startswith(API_KEY_PREFIX) or len(parts) != 2:
        raise Unauthorized("the API key is malformed (expected chk_<prefix>_<secret>)")
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == parts[0]))
    if key is None or not secrets.compare_digest(key.key_hash, sha256_hex(raw)):
        raise Unauthorized("unknown API key")
    now = utcnow()
    if key.revoked_at is not None:
        raise Unauthorized("the API key was revoked")
    if key.expires_at is not None and as_utc(key.expires_at) <= now:
        raise Unauthorized("the API key has expired")
    user = session.get(User, key.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("the API key's user is disabled")
    if key.last_used_at is None or now - as_utc(key.last_used_at) > timedelta(minutes=1):
        key.last_used_at = now  # coarse, so hot keys do not write on every call
    return user


def revoke_api_key(session: Session, key_id: int) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"no API key with id {key_id}")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return key


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
    row = session.get(WebSession, sha256_hex(token))
    if row is None or as_utc(row.expires_at) <= utcnow():
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.is_active else None


def end_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == sha256_hex(token)))


# -- login with throttling ----------------------------------------------------


def _recent_failures(session: Session, username: str, ip: str, since: datetime) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(LoginFailure)
            .where(LoginFailure.at >= since)
            .where(or_(LoginFailure.username == username, LoginFailure.ip == ip))
        )
        or 0
    )


def authenticate(
    session: Session, username: str, password: str, settings: Settings, ip: str = ""
) -> User:
    """The user whose password this is; throttled after repeated failures."""
    window = timedelta(minutes=settings.login_lockout_minutes)
    if _recent_failures(session, username, ip, utcnow() - window) >= settings.login_max_failures:
        raise TooManyRequests(
            f"too many failed logins; try again in {settings.login_lockout_minutes} minutes",
            retry_after=int(window.total_seconds()),
        )
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not verify_password(user.password_hash, password) or not user.is_active:
        raise Unauthorized("wrong username or password")  # `login` records the failure
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
    caller's request fails; success and failure are both audited.
    """
    try:
        with factory() as session, session.begin():
            user = authenticate(session, username, password, settings, ip)
            token = start_session(session, user, settings, ip, user_agent)
            audit.record(
                session,
                actor=user.username,
                organization_id=user.organization_id,
                action="auth.login",
                target=f"user:{username}",
                ip=ip,
            )
            return user, token
    except (Unauthorized, TooManyRequests) as exc:
        with factory() as session, session.begin():
            if isinstance(exc, Unauthorized):
                session.add(LoginFailure(username=username[:64], ip=ip[:64]))
            audit.record(
                session,
                actor=username or "anonymous",
                action="auth.login",
                target=f"user:{username}",
                ip=ip,
                outcome="denied",
                status=exc.status,
                detail={"reason": exc.detail},
            )
        raise
