"""User administration: who may see, create and change which accounts. No web imports.

Platform admins manage everyone; a department admin manages only the data officers,
developers and viewers of their own organization; only a platform admin grants the
auditor role, and no account mixes audit with administration or operation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityhub.directory.service import get_org
from cityhub.errors import Conflict, Forbidden, ValidationFailed
from cityhub.security import service
from cityhub.security.models import Role, User, UserRole
from cityhub.security.schemas import UserCreate, UserUpdate

DEPT_GRANTABLE = frozenset({Role.data_officer, Role.developer, Role.viewer})
# Auditors review who holds which role, so they may read (never change) accounts.
USER_READERS = frozenset({Role.platform_admin, Role.auditor})
SELF_SERVICE = frozenset({"password", "display_name"})


def _names(roles: Iterable[Role]) -> str:
    return ", ".join(sorted(r.value for r in roles))


def can_see(actor: User, user: User) -> bool:
    return (
        actor.id == user.id
        or bool(actor.roles & USER_READERS)
        or (Role.dept_admin in actor.roles and actor.organization_id == user.organization_id)
    )


def list_users(
    session: Session,
    actor: User,
    *,
    limit: int,
    after: str | None = None,
    organization: str | None = None,
    role: Role | None = None,
) -> list[User]:
    """Users ordered by username; a department admin sees only their own organization."""
    stmt = select(User).order_by(User.username).limit(limit)
    own_org_only = not actor.roles & USER_READERS
    if own_org_only:
        if Role.dept_admin not in actor.roles:
            raise Forbidden(
                f"listing users needs one of the roles: {_names(USER_READERS | {Role.dept_admin})}"
            )
        stmt = stmt.where(User.organization_id == actor.organization_id)
    if organization is not None:
        org = get_org(session, organization)
        if own_org_only and org.id != actor.organization_id:
            raise Forbidden("a department admin sees only the users of their own organization")
        stmt = stmt.where(User.organization_id == org.id)
    if role is not None:
        stmt = stmt.where(User.role_rows.any(UserRole.role == role))
    if after is not None:
        stmt = stmt.where(User.username > after)
    return list(session.scalars(stmt).unique())


def visible_user(session: Session, actor: User, username: str) -> User:
    user = service.get_user(session, username)
    if not can_see(actor, user):
        raise Forbidden(f"you may not see user {username!r}")
    return user


def authorize(actor: User, organization_id: int, old: set[Role], new: set[Role]) -> None:
    """Forbidden unless `actor` may give a user of that organization roles `new`."""
    if Role.platform_admin in actor.roles:
        return
    if Role.dept_admin not in actor.roles:
        raise Forbidden("managing users needs the platform_admin or dept_admin role")
    if organization_id != actor.organization_id:
        raise Forbidden("a department admin manages only the users of their own organization")
    if Role.auditor in new - old:
        raise Forbidden("only a platform admin may grant the auditor role")
    if held := old - DEPT_GRANTABLE:
        raise Forbidden(f"the user holds {_names(held)}; only a platform admin may change them")
    if extra := new - DEPT_GRANTABLE:
        raise Forbidden(
            f"a department admin may grant only {_names(DEPT_GRANTABLE)}, not {_names(extra)}"
        )


def admin_create_user(session: Session, actor: User | None, data: UserCreate) -> User:
    """Create a user; `actor` None is the operator's console, which has every right."""
    org = get_org(session, data.organization)
    roles = set(data.roles)
    service.check_separation(roles)
    if actor is not None:
        authorize(actor, org.id, set(), roles)
    return service.create_user(
        session,
        username=data.username,
        organization_id=org.id,
        roles=roles,
        password=data.password,
        display_name=data.display_name,
    )


def _keep_an_admin(session: Session, user: User) -> None:
    others = session.scalar(
        select(func.count(User.id))
        .where(User.role_rows.any(UserRole.role == Role.platform_admin))
        .where(User.is_active.is_(True), User.id != user.id)
    )
    if not others:
        raise Conflict("this is the last active platform admin; appoint another one first")


def update_user(
    session: Session,
    actor: User,
    user: User,
    data: UserUpdate,
    *,
    current_token: str | None = None,
) -> dict[str, Any]:
    """Apply the given changes and return what changed (for the audit trail, no secrets).

    Anyone may change their own password (proving the current one) and display name;
    everything else follows `authorize`. `current_token` is the caller's web session,
    kept when they change their own password while every other session ends.
    """
    given = data.model_dump(exclude_unset=True, exclude={"current_password"})
    changes = {k: v for k, v in given.items() if v is not None}
    if not changes:
        raise ValidationFailed("nothing to change: give display_name, roles, is_active or password")
    old = user.roles
    new = set(changes.get("roles", old))
    is_self = actor.id == user.id
    if is_self and changes.keys() <= SELF_SERVICE:
        if "password" in changes:
            if not data.current_password:
                raise ValidationFailed("current_password is required to change your own password")
            if not service.verify_password(user.password_hash, data.current_password):
                raise Forbidden("current_password is wrong")
    else:
        service.check_separation(new)
        authorize(actor, user.organization_id, old, new)
        losing_admin = Role.platform_admin in old and (
            Role.platform_admin not in new or changes.get("is_active") is False
        )
        if losing_admin:
            _keep_an_admin(session, user)

    summary: dict[str, Any] = {}
    if "display_name" in changes:
        user.display_name = summary["display_name"] = changes["display_name"]
    if new != old:
        user.role_rows = [r for r in user.role_rows if r.role in new] + [
            UserRole(role=r) for r in sorted(new - old)
        ]
        summary["roles_granted"] = sorted(new - old)
        summary["roles_removed"] = sorted(old - new)
    if "is_active" in changes and changes["is_active"] != user.is_active:
        user.is_active = summary["is_active"] = changes["is_active"]
        if not user.is_active:
            service.end_sessions(session, user)
    if "password" in changes:
        user.password_hash = service.hash_password(changes["password"])
        summary["password_changed"] = True
        # A changed password locks out whoever else held a session.
        service.end_sessions(session, user, keep_token=current_token if is_self else None)
    session.flush()
    return summary
