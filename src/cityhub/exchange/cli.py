"""`cityhub deliver RESOURCE FILE`: a delivery from the console, through the same
pipeline as an upload, with a progress bar; one clear line on bad input."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlalchemy import select

from cityhub.core.console import console_actor, console_settings, one_line_errors, prepare
from cityhub.core.db import make_engine, session_factory
from cityhub.directory.models import Organization
from cityhub.errors import Forbidden, NotFound, ValidationFailed
from cityhub.exchange import pipeline, service
from cityhub.exchange.vocab import BatchStatus, Mode
from cityhub.gateway import resources


def _provider(factory: object, resource_code: str, as_org: str | None) -> service.Actor:
    """The CLI acts for the resource's provider; --as must name that provider."""
    with factory() as session:  # type: ignore[operator]
        info = resources.load(session, resource_code)
        if as_org is not None:
            org = session.scalar(select(Organization).where(Organization.code == as_org))
            if org is None:
                raise NotFound(f"no organization with code {as_org!r}")
            if org.id != info.provider_id:
                raise Forbidden(
                    f"{as_org} does not provide resource {resource_code} (its provider is "
                    f"{info.provider_code}); only the provider delivers its data"
                )
    return service.Actor(console_actor(), info.provider_id, frozenset(), system=True)


@click.command("deliver")
@click.argument("resource")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--mode",
    type=click.Choice([m.value for m in Mode]),
    default=Mode.incremental.value,
    show_default=True,
    help="full: the file is the whole data set (missing keys are deleted); incremental: "
    "upserts, and deletions in an _op column.",
)
@click.option("--encoding", default=None, help="utf-8, gbk or gb18030 (detected when left out).")
@click.option("--format", "format_name", default=None, help="csv, xlsx, json, ndjson, parquet.")
@click.option("--source", default="upload", show_default=True, help="Names the column mapping.")
@click.option("--as", "as_org", default=None, help="Provider organization code to act for.")
@one_line_errors
def deliver(
    resource: str,
    file: Path,
    mode: str,
    encoding: str | None,
    format_name: str | None,
    source: str,
    as_org: str | None,
) -> None:
    """Deliver FILE as a batch of RESOURCE (validated, standardized, merged)."""
    if not file.is_file():
        raise ValidationFailed(f"no such file: {file}")
    settings = console_settings()
    prepare(settings)
    engine = make_engine(settings.effective_database_url)
    factory = session_factory(engine)
    try:
        actor = _provider(factory, resource, as_org)
        size = file.stat().st_size
        with (
            file.open("rb") as src,
            click.progressbar(length=size, label="receiving", file=sys.stderr) as bar,
        ):
            received = service.receive(
                factory, settings, actor, resource_code=resource, content=src,
                filename=file.name, mode=Mode(mode), encoding_name=encoding,
                format_name=format_name, source=source, on_progress=bar.update,
            )  # fmt: skip
        if received.duplicate_of is not None:
            click.echo(
                f"cityhub: {file.name} was delivered before as batch {received.duplicate_of}; "
                "nothing changed"
            )
            return
        with click.progressbar(length=_line_count(file), label="merging  ", file=sys.stderr) as bar:
            batch = pipeline.run(factory, settings, received.batch_id, progress=bar.update)
    finally:
        engine.dispose()
    if batch.status is BatchStatus.failed:
        raise ValidationFailed(f"batch {batch.id} failed: {batch.error}")
    click.echo(
        f"cityhub: batch {batch.id} {batch.status.value}: {batch.rows_in} rows in, "
        f"{batch.accepted} accepted ({batch.inserted} new, {batch.updated} updated, "
        f"{batch.unchanged} unchanged, {batch.deleted} deleted), {batch.rejected} rejected "
        f"in {(batch.duration_ms or 0) / 1000:.1f} s"
    )
    if batch.rejected:
        click.echo(f"cityhub: rejected rows: GET /api/v1/deliveries/{batch.id}/quarantine.csv")


def _line_count(path: Path) -> int:
    """Rows for the progress bar (an estimate for formats other than CSV)."""
    lines = 0
    with path.open("rb") as src:
        while block := src.read(1 << 20):
            lines += block.count(b"\n")
    return max(1, lines - 1)
