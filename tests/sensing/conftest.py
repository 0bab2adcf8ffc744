"""Fixtures of the sensing tests: built-in profiles, an operator, a device owner."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction
from cityhub.security.models import Role
from cityhub.sensing.alarms import rules_changed
from cityhub.sensing.profiles import ensure_builtin
from cityhub.sensing.registry import forget_everywhere
from cityhub.settings import Settings

Auth = Callable[..., dict[str, str]]


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    """Each test has its own database: forget devices and rules cached by an earlier one."""
    forget_everywhere()
    rules_changed()


@pytest.fixture
def profiles(db: sessionmaker[Session]) -> None:
    with transaction(db) as session:
        ensure_builtin(session)


@pytest.fixture
def operator(auth: Auth, profiles: None) -> dict[str, str]:
    """An operator of the operating company: manages every device."""
    return auth(Role.operator, org_code="LYZHYY", username="ops")


@pytest.fixture
def env_officer(auth: Auth, profiles: None) -> dict[str, str]:
    """A data officer of the Ecology and Environment Bureau: manages its own devices."""
    return auth(Role.data_officer, org_code="LYSTHJ", username="env")


@pytest.fixture
def settings_limit(settings: Settings) -> None:
    """At most 10 readings per message, to test the limit cheaply."""
    settings.sensing_max_batch_points = 10
