"""Deadlines in working days: Monday-Friday, minus holidays, plus make-up days (调休)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from cityhub.gateway.workdays import Calendar
from cityhub.settings import Settings

# 2026-10-01 (Thu) .. 2026-10-08 (Thu): National Day holidays; Sat 2026-10-10 is worked.
GOLDEN_WEEK = frozenset(date(2026, 10, d) for d in range(1, 9))
MAKEUP = frozenset({date(2026, 10, 10)})


@pytest.mark.parametrize(
    ("start", "days", "deadline"),
    [
        (date(2026, 11, 23), 10, date(2026, 12, 7)),  # Monday + 10 → two weeks later
        (date(2026, 11, 27), 1, date(2026, 11, 30)),  # Friday + 1 → Monday
        (date(2026, 11, 28), 1, date(2026, 11, 30)),  # Saturday + 1 → Monday
        (date(2026, 11, 27), 5, date(2026, 12, 4)),
    ],
)
def test_working_days_skip_weekends(start: date, days: int, deadline: date) -> None:
    assert Calendar().add_working_days(start, days) == deadline


def test_holidays_are_skipped_and_makeup_days_count() -> None:
    calendar = Calendar(GOLDEN_WEEK, MAKEUP)
    # From Wed 30 Sep: 1-8 Oct are holidays, Fri 9 Oct is day 1, Sat 10 Oct (调休) day 2.
    assert calendar.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 9)
    assert calendar.add_working_days(date(2026, 9, 30), 2) == date(2026, 10, 10)
    assert calendar.add_working_days(date(2026, 9, 30), 10) == date(2026, 10, 21)
    assert not calendar.is_working_day(date(2026, 10, 5))
    assert calendar.is_working_day(date(2026, 10, 10))
    assert calendar.working_days_between(date(2026, 9, 30), date(2026, 10, 12)) == 3


def test_calendar_reads_the_settings(tmp_path: object) -> None:
    settings = Settings(
        holidays="2026-10-01,2026-10-02",  # type: ignore[arg-type]
        makeup_workdays=[date(2026, 10, 10)],
        approval_working_days=3,
    )
    calendar = Calendar.from_settings(settings)
    assert calendar.holidays == {date(2026, 10, 1), date(2026, 10, 2)}
    assert calendar.makeup_workdays == {date(2026, 10, 10)}


def test_days_start_at_local_midnight() -> None:
    calendar = Calendar()
    # 2026-11-26 17:30 UTC is already the 27th in China (UTC+8).
    moment = datetime(2026, 11, 26, 17, 30, tzinfo=UTC)
    assert calendar.today(moment) == date(2026, 11, 27)
    midnight = calendar.local_midnight_after(moment)
    assert midnight.astimezone(UTC) == datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
