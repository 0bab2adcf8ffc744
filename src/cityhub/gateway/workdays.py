"""Working days (工作日): Monday to Friday, minus public holidays, plus make-up days (调休).

Deadlines of sharing requests are counted in working days in the city's own time zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from cityhub.core.db import utcnow
from cityhub.settings import Settings

CHINA = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Calendar:
    holidays: frozenset[date] = frozenset()
    makeup_workdays: frozenset[date] = frozenset()
    zone: ZoneInfo = CHINA

    @classmethod
    def from_settings(cls, settings: Settings) -> Calendar:
        return cls(
            frozenset(settings.holidays),
            frozenset(settings.makeup_workdays),
            ZoneInfo(settings.local_timezone),
        )

    def is_working_day(self, day: date) -> bool:
        if day in self.makeup_workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: date, days: int) -> date:
        """The `days`-th working day after `start` (`start` itself is not counted)."""
        current = start
        left = days
        while left > 0:
            current += timedelta(days=1)
            if self.is_working_day(current):
                left -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (0 when end <= start)."""
        return sum(1 for d in _days(start, end) if self.is_working_day(d))

    def today(self, now: datetime | None = None) -> date:
        return (now or utcnow()).astimezone(self.zone).date()

    def local_midnight_after(self, now: datetime | None = None) -> datetime:
        """The next local midnight, when daily quotas start over."""
        local = (now or utcnow()).astimezone(self.zone)
        tomorrow = local.date() + timedelta(days=1)
        return datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=self.zone)


def _days(start: date, end: date) -> Iterable[date]:
    current = start + timedelta(days=1)
    while current <= end:
        yield current
        current += timedelta(days=1)
