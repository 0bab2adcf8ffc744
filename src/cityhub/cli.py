"""The `cityhub` command: init, settings, serve, demo, apikey, user."""

from __future__ import annotations

import errno
import socket
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import click

from cityhub.errors import CityHubError, ConfigError
from cityhub.security import cli as security_cli
from cityhub.settings import Settings, describe, load_settings

P = ParamSpec("P")
R = TypeVar("R")


def one_line_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """A user mistake prints one clear line and exits non-zero, never a traceback."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except CityHubError as exc:
            click.echo(f"cityhub: error: {exc.detail}", err=True)
            sys.exit(2 if isinstance(exc, ConfigError) else 1)

    return wrapper


def _settings(**overrides: Any) -> Settings:
    return load_settings(**{k: v for k, v in overrides.items() if v is not None})


def _prepare(settings: Settings) -> None:
    """Connect, migrate and load reference data; the same for init, serve and demo."""
    from cityhub.core.db import check_connection, make_engine, session_factory, transaction
    from cityhub.core.migrations import upgrade
    from cityhub.directory.regions import seed_regions

    engine = make_engine(settings.effective_database_url)
    try:
        check_connection(engine)
        upgrade(engine)
        with transaction(session_factory(engine)) as session:
            seed_regions(session, settings)
    finally:
        engine.dispose()


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
    click.echo(f"cityhub: serving on http://{settings.host}:{settings.port}/ (Ctrl+C to stop)")
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None)


@click.group()
@click.version_option(package_name="cityhub")
def main() -> None:
    """cityhub 城市大脑: the public information platform of a smart city."""


@main.command()
@one_line_errors
def init() -> None:
    """Create or upgrade the database schema and load the city's regions."""
    settings = _settings()
    settings.check_secrets()
    _prepare(settings)
    click.echo(f"cityhub: database ready at {settings.effective_database_url}")


@main.command("settings")
@one_line_errors
def show_settings() -> None:
    """Print every setting with its current value and description (secrets hidden)."""
    for name, value, description in describe(_settings()):
        click.echo(f"{name}={value}\n    {description}")


@main.command()
@click.option("--host", default=None, help="Listen address (CITYHUB_HOST).")
@click.option("--port", type=int, default=None, help="Listen port (CITYHUB_PORT).")
@one_line_errors
def serve(host: str | None, port: int | None) -> None:
    """Serve the web UI and the API."""
    settings = _settings(host=host, port=port)
    settings.check_secrets()
    _prepare(settings)
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

    settings = _settings(demo_mode=True, data_dir=data_dir, port=port)
    if do_serve:
        _check_port_free(settings.host, settings.port)
    _prepare(settings)
    summary = build_demo(settings, seed=seed, population=population)
    click.echo(summary.describe())
    if do_serve:
        _serve(settings)


# Commands of the bounded contexts live in their packages and are registered here.
main.add_command(security_cli.user)
main.add_command(security_cli.apikey)
