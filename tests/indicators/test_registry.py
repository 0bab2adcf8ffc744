"""The registry: declarative definitions, refused when ambiguous; an application pack's
indicator is computed like a built-in one, and a faulty one does not stop the others."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from cityhub.errors import Conflict, NotFound, ValidationFailed
from cityhub.indicators import Context, Granularity, Indicator, Panel, Reading, Refresh, service
from cityhub.indicators.registry import Registry
from cityhub.settings import Settings


def _parks(session: Session, ctx: Context) -> Iterator[Reading]:
    yield Reading(ctx.districts[0], 3)
    yield Reading(ctx.city_code, 41, note="2026")


def _broken(session: Session, ctx: Context) -> Iterator[Reading]:
    raise RuntimeError("the pack's source is down")
    yield  # pragma: no cover


PARKS = Indicator(
    "apps.parks.count", "公园数量", "Parks", "个", "城市公园数。", "City parks.",
    source="apps/parks", refresh=Refresh(("apps.parks.*",), every=3600), compute=_parks,
    granularity=Granularity.district, link="/apps/parks",
)  # fmt: skip


def test_registering_is_idempotent_and_conflicts_are_refused() -> None:
    registry = Registry()
    registry.register(PARKS, PARKS)
    assert [i.code for i in registry.indicators()] == ["apps.parks.count"]
    other = Indicator(
        "apps.parks.count", "公园", "Parks", "个", "", "", source="", compute=_parks,
        refresh=Refresh(every=60),
    )  # fmt: skip
    with pytest.raises(Conflict, match="already registered"):
        registry.register(other)
    with pytest.raises(NotFound):
        registry.indicator("apps.none")
    registry.register(Panel("parks", "公园", "Parks", ("apps.parks.count",)))
    assert [p.code for p in registry.panels()] == ["parks"]
    assert registry.topics() == {"apps.parks.*"}


def test_definitions_are_checked() -> None:
    with pytest.raises(ValidationFailed, match="dotted"):
        Indicator("Parks", "", "", "", "", "", source="", refresh=Refresh(every=1), compute=_parks)
    with pytest.raises(ValidationFailed, match="topics, a period"):
        Refresh()
    with pytest.raises(ValidationFailed, match="positive"):
        Refresh(every=0)
    assert Refresh(("sensing.alarm.*",)).matches("sensing.alarm.raised")
    assert not Refresh(("sensing.alarm.*",)).matches("ops.incident.opened")


def test_a_pack_indicator_is_computed_and_a_faulty_one_is_isolated(
    settings: Settings, db: sessionmaker[Session]
) -> None:
    registry = Registry()
    broken = Indicator(
        "apps.broken.x", "坏", "Broken", "个", "", "", source="", refresh=Refresh(every=60),
        compute=_broken,
    )  # fmt: skip
    registry.register(broken, PARKS)
    outcome = service.recompute(db, settings, registry=registry)
    assert outcome.changed == ["apps.parks.count"]
    assert "source is down" in outcome.failed["apps.broken.x"]
    with db() as session:
        latest = service.latest(session, ["apps.parks.count"])["apps.parks.count"]
    assert latest["371300"].value == 41 and latest["371300"].note == "2026"
    assert latest["371302"].value == 3  # the first district by code
    again = service.recompute(db, settings, registry=registry)
    assert again.changed == []  # same values: nothing to announce


def test_the_local_day_is_bounded_in_utc() -> None:
    """Stored timestamps are UTC (SQLite compares them as text): just after local midnight
    in Linyi, the day began at 16:00 UTC the evening before."""
    ctx = Context(now=datetime(2026, 11, 26, 16, 30, tzinfo=UTC), city_code="371300",
                  districts=())  # fmt: skip
    assert ctx.today == date(2026, 11, 27)
    assert ctx.day_start == datetime(2026, 11, 26, 16, 0, tzinfo=UTC)
    assert ctx.day_end == datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
    assert ctx.day_start.tzinfo == UTC
