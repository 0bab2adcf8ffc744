"""`cityhub library ...`: status, rebuild derived libraries, audit digests, declare keys,
generate demo department files."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.console import console_settings, one_line_errors, prepare
from cityhub.core.db import make_engine, session_factory, transaction
from cityhub.errors import ValidationFailed
from cityhub.ledger.audit import Outcome
from cityhub.library import audit, derive, service, target
from cityhub.web.i18n import both


@contextmanager
def _factory() -> Iterator[sessionmaker[Session]]:
    settings = console_settings()
    prepare(settings)
    engine = make_engine(settings.effective_database_url)
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()


@click.group()
def library() -> None:
    """Public databases (公共数据库): base, theme, special-topic, common-business libraries."""


@library.command("status")
@one_line_errors
def status_cmd() -> None:
    """Records, digest and last merge of every library."""
    with _factory() as factory, factory() as session:
        for lib in service.overview(session):
            last = (
                lib.last_merges[0].finished_at.strftime("%Y-%m-%d %H:%M")
                if lib.last_merges
                else "—"
            )
            click.echo(
                f"{lib.slug:<16} {lib.resource_code:<22} {lib.records:>12,} "
                f"{lib.digest[:16]}  {both('library.last_merges')}: {last}"
            )


@library.command("rebuild")
@click.argument("slug", required=False)
@click.option("--full", is_flag=True, help="Recompute everything, not only dirty keys.")
@one_line_errors
def rebuild_cmd(slug: str | None, full: bool) -> None:
    """Rebuild derived libraries (all with dirty keys, or SLUG)."""
    with _factory() as factory:
        if slug is None:
            done = derive.rebuild_dirty(factory, full=full)
        else:
            with transaction(factory) as session:
                one = derive.rebuild(session, slug, full=full)
            done = [one] if one else []
        for r in done:
            click.echo(
                f"{r.derivation}: {r.keys:,} keys, {r.result.inserted:,} inserted, "
                f"{r.result.updated:,} updated, {r.result.deleted:,} deleted"
            )
        if not done:
            click.echo("nothing to rebuild")


@library.command("audit")
@one_line_errors
def audit_cmd() -> None:
    """Recompute every library's digest from its rows; report rows changed outside."""
    outcome = Outcome()
    with _factory() as factory, factory() as session:
        from sqlalchemy import select

        from cityhub.library.models import LibraryDigestPart

        codes = sorted(set(session.scalars(select(LibraryDigestPart.resource_code))))
        for code in codes:
            audit.audit_resource(session, code, outcome, None)
    for finding in outcome.findings:
        click.echo(f"{finding.target}: {finding.problem}")
    click.echo(f"{outcome.checked} resources checked, {len(outcome.findings)} findings")
    if outcome.findings:
        raise SystemExit(1)


@library.command("key")
@click.argument("resource")
@click.argument("items", nargs=-1, required=True)
@one_line_errors
def key_cmd(resource: str, items: tuple[str, ...]) -> None:
    """Declare the key ITEMS of a plain tabular RESOURCE (the catalog has no key flag)."""
    with _factory() as factory, transaction(factory) as session:
        target.set_key(session, resource, list(items), actor="cli")
    click.echo(f"{resource}: key {', '.join(items)}")


@library.command("generate")
@click.option("--population", type=int, default=20_000, show_default=True)
@click.option("--seed", type=int, default=20201228, show_default=True)
@click.option("--bad-rate", type=float, default=0.03, show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True)
@one_line_errors
def generate_cmd(population: int, seed: int, bad_rate: float, out_dir: str) -> None:
    """Write the demo departments' files (CSV) to OUT, ready for `cityhub deliver`."""
    from cityhub.library.demo import write_files
    from cityhub.library.generate import COUNTY_CODES
    from cityhub.library.generate_world import Centre

    if population < 1 or not 0 <= bad_rate < 1:
        raise ValidationFailed("--population must be positive and --bad-rate in [0, 1)")
    centres = [Centre(code, 118.35, 35.1, 500.0) for code in COUNTY_CODES]
    files = write_files(
        Path(out_dir), population=population, seed=seed, centres=centres, bad_rate=bad_rate,
        progress=lambda line: click.echo(line, err=True),
    )  # fmt: skip
    for f in files:
        click.echo(
            f"{f.path}  {f.resource_code}  {f.provider}  {f.rows:,} rows ({f.bad_rows:,} bad)"
        )
