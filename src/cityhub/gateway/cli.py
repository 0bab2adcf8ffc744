"""`cityhub gateway ...`: the interface service from the console.

cityhub gateway tables            create or extend the table of every published table
cityhub gateway expire            note every grant whose period ended (one event each)
cityhub gateway overdue           pending and overdue sharing requests per provider
cityhub gateway usage [--days N]  metered calls per day
"""

from __future__ import annotations

from datetime import timedelta

import click
from sqlalchemy import select

from cityhub.catalog.models import Resource
from cityhub.catalog.vocab import ResourceFormat, Status
from cityhub.core.console import console_actor, console_session, console_settings, one_line_errors
from cityhub.gateway import grants, resources, usage
from cityhub.gateway import requests as sharing
from cityhub.gateway.workdays import Calendar
from cityhub.library import datastore as ds
from cityhub.security import audit


@click.group()
def gateway() -> None:
    """Interface service: datastore tables, grant expiry, overdue requests, usage."""


@gateway.command("tables")
@one_line_errors
def tables() -> None:
    """Create or extend the datastore table of every published tabular resource."""
    with console_session() as session:
        codes = session.scalars(
            select(Resource.code).where(
                Resource.status == Status.published, Resource.format == ResourceFormat.table
            )
        ).all()
        conn = session.connection()
        for code in codes:
            info = resources.load(session, code)
            if info.items:
                outcome = ds.ensure_table(conn, info.table_spec)
                click.echo(f"{code}  {info.table_spec.name}  {outcome}")


@gateway.command("expire")
@one_line_errors
def expire() -> None:
    """Note every grant whose period ended: one gateway.grant.expired event each."""
    with console_session() as session:
        count = grants.expire_due(session)
        audit.record(session, actor=console_actor(), action="gateway.expire", detail={"n": count})
    click.echo(f"cityhub: {count} grant(s) expired")


@gateway.command("overdue")
@one_line_errors
def overdue() -> None:
    """Pending, overdue and late-decided sharing requests per provider."""
    settings = console_settings()
    today = Calendar.from_settings(settings).today()
    with console_session(settings) as session:
        rows = sharing.overdue_by_provider(session, today)
    click.echo(f"{'provider':<10}{'pending':>9}{'overdue':>9}{'late':>7}  name")
    for code, name, pending, late_now, late in rows:
        click.echo(f"{code:<10}{pending:>9}{late_now:>9}{late:>7}  {name}")


@gateway.command("usage")
@click.option("--days", type=click.IntRange(1, usage.MAX_DAYS), default=14, show_default=True)
@one_line_errors
def usage_report(days: int) -> None:
    """Metered calls per day (the console sees every application's)."""
    settings = console_settings()
    today = Calendar.from_settings(settings).today()
    with console_session(settings) as session:
        report = usage.report(
            session, None, today=today, since=today - timedelta(days=days - 1), group_by=["day"]
        )
    click.echo(f"{'day':<12}{'calls':>9}{'errors':>8}{'rows':>12}{'ms':>9}")
    for row in report.items:
        click.echo(
            f"{row.day!s:<12}{row.calls:>9}{row.errors:>8}{row.rows:>12}{row.avg_latency_ms:>9.1f}"
        )
