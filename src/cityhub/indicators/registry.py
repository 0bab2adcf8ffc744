"""The indicator registry: declarative definitions that every package (and, later, every
application pack) registers through `register`; the cockpit and the API read only what
these definitions computed into `indicator_values`.

An indicator is a frozen description, not a class: its code, names, unit, definition,
source, refresh rule, region granularity, and the function that computes its readings
from the other packages' tables (read-only, and only in the recompute job).
"""

from __future__ import annotations

import fnmatch
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from cityhub.errors import Conflict, NotFound, ValidationFailed

_CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


class Granularity(StrEnum):
    city = "city"  # one value for the whole city
    district = "district"  # one per county-level division, and the city total


@dataclass(frozen=True)
class Refresh:
    """When an indicator is recomputed: on events whose topic matches one of `topics`
    (shell patterns, debounced by `debounce` seconds) and/or every `every` seconds."""

    topics: tuple[str, ...] = ()
    every: float | None = None
    debounce: float = 2.0

    def __post_init__(self) -> None:
        if self.every is not None and self.every <= 0:
            raise ValidationFailed("a refresh period must be positive")
        if not self.topics and self.every is None:
            raise ValidationFailed("a refresh rule needs topics, a period, or both")

    def matches(self, topic: str) -> bool:
        return any(fnmatch.fnmatchcase(topic, p) for p in self.topics)


@dataclass(frozen=True)
class Context:
    """What a computation knows besides the database: the time and the city."""

    now: datetime
    city_code: str
    districts: tuple[str, ...]
    timezone: str = "Asia/Shanghai"

    @property
    def today(self) -> date:
        """The local date holding `now`."""
        return self.now.astimezone(ZoneInfo(self.timezone)).date()

    @property
    def day_start(self) -> datetime:
        """Start of the local day holding `now`, in UTC: SQLite compares stored UTC
        timestamps as text, so a bound local time would shift the day by the offset."""
        return self._midnight(0)

    @property
    def day_end(self) -> datetime:
        return self._midnight(1)

    def _midnight(self, days: int) -> datetime:
        local = self.now.astimezone(ZoneInfo(self.timezone))
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=days)
        return midnight.astimezone(UTC)  # wall-clock days: right across DST changes too


@dataclass(frozen=True)
class Reading:
    """One computed value; `region` is a GB/T 2260 code (the city's for the total)."""

    region: str
    value: float
    note: str = ""  # e.g. the statistical period, or a signed head's root


Compute = Callable[[Session, Context], Iterable[Reading]]


@dataclass(frozen=True)
class Indicator:
    code: str  # dotted, e.g. `library.residents`
    name_zh: str
    name_en: str
    unit: str  # as shown: 人, 个, %, 亿元 ...
    definition_zh: str
    definition_en: str
    source: str  # the package and tables it is computed from
    refresh: Refresh
    compute: Compute = field(compare=False, repr=False)
    granularity: Granularity = Granularity.city
    link: str = ""  # the detail page a panel links to
    unit_en: str = ""  # the unit in English when it differs
    daily: bool = False  # a count of the local day: can be recomputed for past days
    headline: bool = True  # shown among the cockpit's headline figures
    order: int = 1000

    def __post_init__(self) -> None:
        if not _CODE.match(self.code) or len(self.code) > 64:
            raise ValidationFailed(
                f"indicator code {self.code!r} must be dotted lower-case, e.g. `library.residents`"
            )


@dataclass(frozen=True)
class Snapshot:
    """A precomputed document the cockpit shows as is (device points, the ticker)."""

    name: str
    refresh: Refresh
    compute: Callable[[Session, Context], Any] = field(compare=False, repr=False)


@dataclass(frozen=True)
class Panel:
    """A cockpit panel an application adds: a titled group of registered indicators."""

    code: str
    name_zh: str
    name_en: str
    indicators: tuple[str, ...]
    link: str = ""
    order: int = 1000


class Registry:
    """Every registered indicator, snapshot and panel; registering the same thing twice is
    harmless, registering a different thing under a taken code is refused."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._indicators: dict[str, Indicator] = {}
        self._snapshots: dict[str, Snapshot] = {}
        self._panels: dict[str, Panel] = {}

    def register(self, *items: Indicator | Snapshot | Panel) -> None:
        with self._lock:
            for item in items:
                if isinstance(item, Indicator):
                    self._put(self._indicators, item.code, item)
                elif isinstance(item, Snapshot):
                    self._put(self._snapshots, item.name, item)
                else:
                    self._put(self._panels, item.code, item)

    @staticmethod
    def _put(table: dict[str, Any], key: str, item: object) -> None:
        known = table.get(key)
        if known is not None and known != item:
            raise Conflict(f"{key!r} is already registered with another definition")
        table[key] = item

    def indicator(self, code: str) -> Indicator:
        found = self._indicators.get(code)
        if found is None:
            raise NotFound(f"no indicator {code!r}")
        return found

    def indicators(self) -> list[Indicator]:
        return sorted(self._indicators.values(), key=lambda i: (i.order, i.code))

    def snapshots(self) -> list[Snapshot]:
        return list(self._snapshots.values())

    def panels(self) -> list[Panel]:
        return sorted(self._panels.values(), key=lambda p: (p.order, p.code))

    def topics(self) -> set[str]:
        rules = [i.refresh for i in self._indicators.values()]
        rules += [s.refresh for s in self._snapshots.values()]
        return {t for r in rules for t in r.topics}


REGISTRY = Registry()


def register(*items: Indicator | Snapshot | Panel) -> None:
    """Add indicators, snapshots or panels to the platform's registry."""
    REGISTRY.register(*items)
