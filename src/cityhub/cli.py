"""The `cityhub` command: init, settings, serve, demo, and each package's commands."""

from __future__ import annotations

import errno
import gc
import socket

import click

from cityhub.catalog import cli as catalog_cli
from cityhub.core.console import console_settings, one_line_errors, prepare
from cityhub.directory import cli as directory_cli
from cityhub.errors import ConfigError
from cityhub.exchange import cli as exchange_cli
from cityhub.gateway import cli as gateway_cli
from cityhub.ledger import cli as ledger_cli
from cityhub.library import cli as library_cli
from cityhub.ops import cli as ops_cli
from cityhub.security import cli as security_cli
from cityhub.sensing import cli as sensing_cli
from cityhub.settings import Settings, describe


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"port {port} on {host} is already in use; choose another with --port "
                    "or CITYHUB_PORT"
                ) from None
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _serve(settings: Settings) -> None:
    import uvicorn

    from cityhub.app import create_app

    settings.check_secrets()
    _check_port_free(settings.host, settings.port)
    app = create_app(settings)
    # The modules, routes and schemas made so far live as long as the server: moved out of
    # the collector's reach, a full collection no longer walks them (~100 ms pauses).
    gc.collect()
    gc.freeze()
    click.echo(f"cityhub: serving on http://{settings.host}:{settings.port}/ (Ctrl+C to stop)")
    # cityhub.access logs each request with its id; uvicorn's own access log would repeat it.
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False)


@click.group()
@click.version_option(package_name="cityhub")
def main() -> None:
    """cityhub 城市大脑: the public information platform of a smart city."""


@main.command()
@one_line_errors
def init() -> None:
    """Create or upgrade the database schema and load the city's regions."""
    settings = console_settings()
    settings.check_secrets()
    prepare(settings)
    click.echo(f"cityhub: database ready at {settings.effective_database_url}")


@main.command("settings")
@one_line_errors
def show_settings() -> None:
    """Print every setting with its current value and description (secrets hidden)."""
    for name, value, description in describe(console_settings()):
        click.echo(f"{name}={value}\n    {description}")


@main.command()
@click.option("--host", default=None, help="Listen address (CITYHUB_HOST).")
@click.option("--port", type=int, default=None, help="Listen port (CITYHUB_PORT).")
@one_line_errors
def serve(host: str | None, port: int | None) -> None:
    """Serve the web UI and the API."""
    settings = console_settings(host=host, port=port)
    settings.check_secrets()
    prepare(settings)
    _serve(settings)


@main.command()
@click.option("--seed", type=int, default=20201228, show_default=True, help="Random seed.")
@click.option(
    "--population",
    type=int,
    default=20000,
    show_default=True,
    help="Residents to generate for the population library.",
)
@click.option("--serve/--no-serve", "do_serve", default=True, help="Serve after building.")
@click.option("--data-dir", default=None, help="Data directory (CITYHUB_DATA_DIR).")
@click.option("--port", type=int, default=None, help="Listen port (CITYHUB_PORT).")
@one_line_errors
def demo(
    seed: int, population: int, do_serve: bool, data_dir: str | None, port: int | None
) -> None:
    """Build the Linyi demo city (reused when it exists) and serve it."""
    from cityhub.demo import build_demo

    settings = console_settings(demo_mode=True, data_dir=data_dir, port=port)
    if do_serve:
        _check_port_free(settings.host, settings.port)
    prepare(settings)
    summary = build_demo(settings, seed=seed, population=population)
    click.echo(summary.describe())
    if do_serve:
        _serve(settings)


# Commands of the bounded contexts live in their packages and are registered here.
main.add_command(directory_cli.org)
main.add_command(security_cli.user)
main.add_command(security_cli.apikey)
main.add_command(ledger_cli.ledger)
main.add_command(library_cli.library)
main.add_command(sensing_cli.sensing)
main.add_command(ops_cli.ops)
main.add_command(exchange_cli.deliver)
main.add_command(catalog_cli.catalog)
main.add_command(gateway_cli.gateway)
