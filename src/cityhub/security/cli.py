"""`cityhub user ...` and `cityhub apikey ...`: accounts and keys from the console.

The console is the operator with the database in hand, so it is not checked against roles;
separation of duties and the password policy still hold, and every change is audited with
the operating-system account as the actor.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhub.core.console import console_actor, console_session, one_line_errors, validated
from cityhub.security import audit
from cityhub.security.models import Role, User


def _audit(session: Session, action: str, target: str, **detail: Any) -> None:
    audit.record(session, actor=console_actor(), action=action, target=target, detail=detail)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


# -- users --------------------------------------------------------------------


@click.group()
def user() -> None:
    """User accounts: people and machine clients."""


@user.command("create")
@click.option("--username", required=True, help="Login name.")
@click.option("--org", "org_code", required=True, help="Code of the user's organization.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([r.value for r in Role]),
    help="A role (repeat for several).",
)
@click.option("--password", default=None, help="Password (prompted for when omitted).")
@click.option("--no-password", is_flag=True, help="An API-only account that cannot log in.")
@click.option("--display-name", default="", help="Name shown in the UI.")
@one_line_errors
def user_create(
    username: str,
    org_code: str,
    roles: tuple[str, ...],
    password: str | None,
    no_password: bool,
    display_name: str,
) -> None:
    """Create a user (the console may grant any role, auditor included)."""
    from cityhub.security import accounts
    from cityhub.security.schemas import UserCreate

    if password is None and not no_password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    data = validated(
        UserCreate,
        username=username,
        organization=org_code,
        roles=list(roles),
        password=None if no_password else password,
        display_name=display_name,
    )
    with console_session() as session:
        created = accounts.admin_create_user(session, None, data)
        _audit(session, "user.create", f"user:{username}", roles=sorted(created.roles))
    click.echo(f"created user {username} ({org_code}; roles: {', '.join(sorted(roles))})")


@user.command("list")
@click.option("--org", "org_code", default=None, help="Only this organization's users.")
@click.option("--role", default=None, type=click.Choice([r.value for r in Role]))
@one_line_errors
def user_list(org_code: str | None, role: str | None) -> None:
    """List users: name, organization, roles, state, last login."""
    from cityhub.directory.service import get_org
    from cityhub.security.models import UserRole

    with console_session() as session:
        stmt = select(User).order_by(User.username)
        if org_code is not None:
            stmt = stmt.where(User.organization_id == get_org(session, org_code).id)
        if role is not None:
            stmt = stmt.where(User.role_rows.any(UserRole.role == Role(role)))
        rows = [
            (
                u.username,
                u.organization.code,
                ",".join(sorted(u.roles)) or "-",
                "active" if u.is_active else "disabled",
                _when(u.last_login_at),
            )
            for u in session.scalars(stmt)
        ]
    if not rows:
        click.echo("no users")
    for row in rows:
        click.echo("  ".join(row))


@user.command("set-password")
@click.argument("username")
@click.option("--password", default=None, help="New password (prompted for when omitted).")
@one_line_errors
def user_set_password(username: str, password: str | None) -> None:
    """Set a user's password and end their web sessions (recovery of a locked-out admin)."""
    from cityhub.security import service

    if password is None:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    service.check_password_policy(password)
    with console_session() as session:
        account = service.get_user(session, username)
        account.password_hash = service.hash_password(password)
        service.end_sessions(session, account)
        _audit(session, "user.set_password", f"user:{username}")
    click.echo(f"password of {username} changed; their web sessions were ended")


# -- API keys -----------------------------------------------------------------


@click.group()
def apikey() -> None:
    """API keys for machine clients."""


@apikey.command("create")
@click.option("--user", "username", required=True, help="User the key acts as.")
@click.option("--name", "label", default="", help="A label to recognise the key by.")
@one_line_errors
def apikey_create(username: str, label: str) -> None:
    """Create a key and print it once: it is stored only as a digest."""
    from cityhub.security import service

    with console_session() as session:
        account = service.get_user(session, username)
        key, raw = service.create_api_key(session, account, label)
        _audit(
            session,
            "apikey.create",
            f"user:{username}",
            key_id=key.id,
            prefix=key.prefix,
            name=label,
        )
    click.echo(raw)


@apikey.command("list")
@click.option("--user", "username", required=True, help="Whose keys.")
@one_line_errors
def apikey_list(username: str) -> None:
    """List a user's keys: id, prefix, status, name, created, expires, last used."""
    from cityhub.security import service
    from cityhub.security.models import ApiKey

    with console_session() as session:
        account = service.get_user(session, username)
        keys = session.scalars(
            select(ApiKey).where(ApiKey.user_id == account.id).order_by(ApiKey.id)
        )
        rows = [
            (
                str(k.id),
                f"chk_{k.prefix}_…",
                service.key_status(k),
                k.name or "-",
                _when(k.created_at),
                _when(k.expires_at),
                _when(k.last_used_at),
            )
            for k in keys
        ]
    if not rows:
        click.echo(f"{username} has no API keys")
    for row in rows:
        click.echo("  ".join(row))


@apikey.command("revoke")
@click.argument("key_id", type=int)
@one_line_errors
def apikey_revoke(key_id: int) -> None:
    """Revoke a key at once; clients using it get 401 from now on."""
    from cityhub.security import service

    with console_session() as session:
        key = service.revoke_api_key(session, key_id)
        owner = session.get(User, key.user_id)
        whose = owner.username if owner else "?"
        _audit(session, "apikey.revoke", f"apikey:{key_id}", prefix=key.prefix, user=whose)
    click.echo(f"revoked API key {key_id} (chk_{key.prefix}_…) of {whose}")
