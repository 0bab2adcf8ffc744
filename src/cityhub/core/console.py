"""What every `cityhub` command shares: settings, the error boundary, a database session.

Packages' CLI modules import from here (never from cityhub.cli, which imports them).
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import click
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from cityhub.errors import CityHubError, ConfigError, ValidationFailed
from cityhub.settings import Settings, load_settings

P = ParamSpec("P")
R = TypeVar("R")
M = TypeVar("M", bound=BaseModel)


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


def console_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with the command's options (those given) on top."""
    return load_settings(**{k: v for k, v in overrides.items() if v is not None})


def prepare(settings: Settings) -> None:
    """Connect, migrate and load reference data; the same for every command."""
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


@contextmanager
def console_session(settings: Settings | None = None) -> Iterator[Session]:
    """One transaction on the configured database, migrated and seeded first."""
    from cityhub.core.db import make_engine, session_factory, transaction

    settings = settings or console_settings()
    prepare(settings)
    engine = make_engine(settings.effective_database_url)
    try:
        with transaction(session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


def console_actor() -> str:
    """The audit actor of a console command: the operating-system account."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no name for this uid (e.g. in a container)
        return "cli"


def validated(model: type[M], **data: Any) -> M:
    """Options checked by the same schema as the API, with the API's precise message."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ValidationFailed(f"{field}: {message}".removeprefix(": ")) from None
