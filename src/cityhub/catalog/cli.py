"""`cityhub catalog ...`: the catalog from the console."""

from __future__ import annotations

import json
from pathlib import Path

import click
from sqlalchemy import select

from cityhub.catalog import dcat, masking, present, service
from cityhub.catalog.models import Resource
from cityhub.catalog.vocab import OpenType, Status
from cityhub.core.console import console_session, console_settings, one_line_errors
from cityhub.directory.models import Region
from cityhub.errors import ValidationFailed


@click.group()
def catalog() -> None:
    """The catalog of information resources (信息资源目录)."""


@catalog.command("show")
@click.argument("code")
@one_line_errors
def show(code: str) -> None:
    """Print one resource's metadata as JSON (any status)."""
    with console_session() as session:
        data = present.to_public(session, service.get_resource(session, code))
        click.echo(json.dumps(data.model_dump(mode="json"), ensure_ascii=False, indent=2))


@catalog.command("reindex")
@one_line_errors
def reindex() -> None:
    """Recompute every resource's search text (after organizations were renamed)."""
    with console_session() as session:
        changed = service.reindex(session)
    click.echo(f"cityhub: {changed} resources reindexed")


@catalog.command("export")
@click.option("--format", "fmt", type=click.Choice(["ttl", "jsonld"]), default="ttl")
@click.option(
    "--base-url",
    default="http://127.0.0.1:8000",
    show_default=True,
    help="The public address the URIs are made from.",
)
@click.option(
    "--all/--open",
    "everything",
    default=False,
    help="Every published resource, or (default) the part open to the public.",
)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@one_line_errors
def export(fmt: str, base_url: str, everything: bool, output: Path | None) -> None:
    """Write the published catalog as DCAT-AP 3 (Turtle or JSON-LD)."""
    if not base_url.startswith(("http://", "https://")):
        raise ValidationFailed("--base-url must start with http:// or https://")
    settings = console_settings()
    with console_session(settings) as session:
        stmt = select(Resource).where(Resource.status == Status.published)
        if not everything:
            stmt = stmt.where(Resource.open_type != OpenType.closed)
        resources = list(session.scalars(stmt.order_by(Resource.code)))
        regions = {c: n for c, n in session.execute(select(Region.code, Region.name_zh))}
        city = session.get(Region, settings.city_code)
        title = (
            f"{city.name_zh if city else ''}城市大脑公共信息平台数据目录",
            f"{city.name_en if city else ''} City Brain data catalog".strip(),
        )
        graph = dcat.catalog_graph(resources, dcat.Links(base_url), regions, title)
        text = dcat.serialize(graph, fmt)
    if output is None:
        click.echo(text)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"cityhub: {len(resources)} resources written to {output}")


@catalog.command("mask")
@click.argument("rule")
@click.argument("values", nargs=-1, required=True)
@one_line_errors
def mask(rule: str, values: tuple[str, ...]) -> None:
    """Try a masking rule: cityhub catalog mask keep:first6,last4 371302198001011234"""
    try:
        parsed = masking.parse_rule(rule)
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from None
    for value, masked in zip(values, masking.mask_values(values, parsed), strict=True):
        click.echo(f"{value}\t{masked}")
