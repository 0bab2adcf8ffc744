"""`cityhub ops ...`: monitored systems, running a probe, incidents and SLA from the console."""

from __future__ import annotations

import click

from cityhub.core.console import console_session, console_settings, one_line_errors, prepare
from cityhub.core.db import make_engine, session_factory
from cityhub.ops import availability, incidents, runner, systems
from cityhub.ops.checks import CheckContext
from cityhub.ops.durations import format_duration
from cityhub.ops.runtime import ensure_platform_system
from cityhub.ops.vocab import OPEN_STATUSES


@click.group()
def ops() -> None:
    """Operations: monitored systems, probes, incidents, availability."""


@ops.command("systems")
@one_line_errors
def ops_systems() -> None:
    """List monitored systems with their status."""
    with console_session() as session:
        rows = systems.list_systems(session, limit=100_000)
        for s in rows:
            click.echo(
                f"{s.code:<16} {s.status:<9} {s.kind:<15} {s.criticality:<9} "
                f"{s.organization.code:<8} {s.name_zh}"
            )
        click.echo(f"cityhub: {len(rows)} systems")


@ops.command("run")
@click.argument("probe_id", type=int)
@one_line_errors
def ops_run(probe_id: int) -> None:
    """Run one probe now and record its result."""
    settings = console_settings()
    with console_session(settings) as session:
        spec = runner.spec_of(systems.get_probe(session, probe_id))
        engine = make_engine(settings.effective_database_url)
        try:
            ctx = CheckContext(session_factory(engine), settings)
            result = runner.run_now(ctx, spec, session)
        finally:
            engine.dispose()
    latency = "—" if result.latency_ms is None else f"{result.latency_ms:.0f} ms"
    click.echo(f"cityhub: probe {probe_id} {result.outcome.value} ({latency}): {result.message}")


@ops.command("incidents")
@click.option("--all", "show_all", is_flag=True, help="Include resolved and closed incidents.")
@one_line_errors
def ops_incidents(show_all: bool) -> None:
    """List incidents, open ones by default."""
    with console_session() as session:
        rows = incidents.list_incidents(
            session, limit=1000, statuses=() if show_all else OPEN_STATUSES
        )
        for i in rows:
            click.echo(f"#{i.id:<5} {i.status:<12} {i.system.code:<16} {i.title}")
        click.echo(f"cityhub: {len(rows)} incidents")


@ops.command("sla")
@click.option("--month", default=None, help="YYYY-MM (default: this month).")
@one_line_errors
def ops_sla(month: str | None) -> None:
    """Availability and SLA of every system for a month."""
    settings = console_settings()
    with console_session(settings) as session:
        year, mon = availability.parse_month(month, settings.local_timezone)
        report = availability.month_report(session, year, mon, settings.local_timezone)
    for row in report.systems:
        value = "—" if row.availability is None else f"{row.availability * 100:.3f}%"
        verdict = {None: "-", True: "met", False: "MISSED"}[row.met]
        click.echo(
            f"{row.system.code:<16} {value:>9} target {row.target * 100:.1f}% {verdict:<6} "
            f"down {format_duration(row.downtime_s):<8} incidents {row.incidents}"
        )
    click.echo(f"cityhub: {report.month} ({report.timezone}), {len(report.systems)} systems")


@ops.command("self-monitor")
@one_line_errors
def ops_self_monitor() -> None:
    """Register the platform itself as a monitored system with its self-probes."""
    settings = console_settings()
    prepare(settings)
    engine = make_engine(settings.effective_database_url)
    try:
        system = ensure_platform_system(session_factory(engine), settings)
    finally:
        engine.dispose()
    if system is None:
        click.echo("cityhub: error: create an organization first (cityhub org create)", err=True)
        raise SystemExit(1)
    click.echo(f"cityhub: the platform is monitored as system {system.code}")


@ops.command("settings")
@one_line_errors
def ops_settings() -> None:
    """Print the operations and scheduler settings with their values (secrets hidden)."""
    from cityhub.settings import describe, load_settings

    for env, shown, description in describe(load_settings()):
        if env.startswith(("CITYHUB_OPS_", "CITYHUB_SCHEDULER_")):
            click.echo(f"{env}={shown}\n    {description}")
