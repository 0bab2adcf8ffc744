"""`cityhub org ...`: organizations from the console (the first one of a new install too)."""

from __future__ import annotations

import click

from cityhub.core.console import console_actor, console_session, one_line_errors, validated
from cityhub.directory import service
from cityhub.directory.models import OrgKind
from cityhub.directory.schemas import OrganizationCreate
from cityhub.security import audit


@click.group()
def org() -> None:
    """Organizations: departments, the operating company, enterprises, institutions."""


@org.command("create")
@click.option("--code", required=True, help="Stable short code, e.g. LYGA.")
@click.option("--name", "name_zh", required=True, help="Chinese name, e.g. 临沂市公安局.")
@click.option("--name-en", default="", help="English name.")
@click.option("--kind", type=click.Choice([k.value for k in OrgKind]), required=True)
@click.option("--parent", "parent_code", default=None, help="Code of the parent organization.")
@click.option("--region", "region_code", default=None, help="GB/T 2260 region code.")
@click.option("--credit-code", default=None, help="GB 32100 unified social credit code.")
@one_line_errors
def org_create(
    code: str,
    name_zh: str,
    name_en: str,
    kind: str,
    parent_code: str | None,
    region_code: str | None,
    credit_code: str | None,
) -> None:
    """Add an organization."""
    data = validated(
        OrganizationCreate,
        code=code,
        name_zh=name_zh,
        name_en=name_en,
        kind=kind,
        parent_code=parent_code,
        region_code=region_code,
        credit_code=credit_code,
    )
    with console_session() as session:
        created = service.create_org(session, data)
        audit.record(
            session, actor=console_actor(), action="org.create", target=f"org:{created.code}"
        )
    click.echo(f"cityhub: organization {code} ({name_zh}) created")


@org.command("list")
@one_line_errors
def org_list() -> None:
    """List organizations with their kind, region and parent."""
    with console_session() as session:
        for row in service.list_orgs(session, limit=100_000):
            parent = f" ← {row.parent_code}" if row.parent_code else ""
            click.echo(
                f"{row.code}\t{row.kind.value}\t{row.region_code or '-'}\t{row.name_zh}{parent}"
            )
