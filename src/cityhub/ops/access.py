"""Who may see and change operations data."""

from __future__ import annotations

from cityhub.errors import Forbidden
from cityhub.security.models import Role, User

# Operations data names internal hosts and failures: not for outside developers.
READ_ROLES = frozenset(
    {
        Role.platform_admin,
        Role.operator,
        Role.auditor,
        Role.viewer,
        Role.dept_admin,
        Role.data_officer,
    }
)
OPS_ROLES = frozenset({Role.platform_admin, Role.operator})


def _names(roles: frozenset[Role]) -> str:
    return ", ".join(sorted(r.value for r in roles))


def require_read(user: User) -> None:
    if not user.roles & READ_ROLES:
        raise Forbidden(f"operations data needs one of the roles: {_names(READ_ROLES)}")


def require_ops(user: User, what: str = "this") -> None:
    if not user.roles & OPS_ROLES:
        raise Forbidden(f"{what} needs one of the roles: {_names(OPS_ROLES)}")


def is_ops(user: User) -> bool:
    return bool(user.roles & OPS_ROLES)
