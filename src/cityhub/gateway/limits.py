"""Rate limits and daily quotas, counted in the database so that API workers stay stateless.

One row per application (`gateway_counters`) holds a token bucket and today's counts. A
call costs one atomic conditional upsert, committed at once:
- the bucket refills at `rate_limit` tokens per second up to `burst`; a call takes one;
- the day's calls and rows (rows are added by the meter as calls end) must stay under the
  daily quotas; a new local day starts them over.
When the condition fails, no row comes back and nothing is changed; a second read then
tells which limit it was. The transaction is separate from the caller's reads, so a hot
application's row is locked for microseconds, never for a whole request.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Date, Engine, bindparam, text
from sqlalchemy.orm import Session

from cityhub.core.db import utcnow, write_lock
from cityhub.errors import TooManyRequests
from cityhub.gateway.hotsql import Hot, as_date
from cityhub.gateway.models import Counter
from cityhub.gateway.workdays import Calendar

# CASE instead of LEAST/MIN: one SQL text for SQLite and PostgreSQL. In SET and WHERE,
# columns are the stored (old) values on both.
_ELAPSED = (
    "(CASE WHEN :now > gateway_counters.refilled_at "
    "THEN (:now - gateway_counters.refilled_at) * :rate ELSE 0 END)"
)
_REFILLED = (
    f"(CASE WHEN gateway_counters.tokens + {_ELAPSED} > :burst "
    f"THEN :burst ELSE gateway_counters.tokens + {_ELAPSED} END)"
)
_SAME_DAY = "gateway_counters.day = :day"
ADMIT = Hot(
    "INSERT INTO gateway_counters (application_id, tokens, refilled_at, day, calls, rows) "
    "VALUES (:app, :burst - 1, :now, :day, 1, 0) "
    "ON CONFLICT (application_id) DO UPDATE SET "
    f"tokens = {_REFILLED} - 1, "
    "refilled_at = CASE WHEN :now > gateway_counters.refilled_at THEN :now "
    "ELSE gateway_counters.refilled_at END, "
    f"calls = CASE WHEN {_SAME_DAY} THEN gateway_counters.calls + 1 ELSE 1 END, "
    f"rows = CASE WHEN {_SAME_DAY} THEN gateway_counters.rows ELSE 0 END, "
    "day = :day "
    f"WHERE {_REFILLED} >= 1 AND (gateway_counters.day <> :day OR "
    "(gateway_counters.calls < :max_calls AND gateway_counters.rows < :max_rows)) "
    "RETURNING calls, rows"
)
READ = Hot("SELECT day, calls, rows FROM gateway_counters WHERE application_id = :app")
ADD_ROWS = text(
    "UPDATE gateway_counters SET rows = rows + :rows WHERE application_id = :app AND day = :day"
).bindparams(bindparam("day", type_=Date()))


@dataclass(frozen=True)
class Limits:
    application_id: int
    rate_limit: int  # tokens per second
    burst: int
    daily_calls: int
    daily_rows: int


@dataclass(frozen=True)
class Allowance:
    """What is left today after this call was admitted."""

    calls_left: int
    rows_left: int
    day: date


def admit(
    engine: Engine, limits: Limits, calendar: Calendar, now: datetime | None = None
) -> Allowance:
    """Count one call, or raise TooManyRequests (with `retry_after`) saying which limit."""
    moment = now or utcnow()
    day = calendar.today(moment)
    params = {
        "app": limits.application_id,
        "now": moment.timestamp(),
        "rate": float(limits.rate_limit),
        "burst": float(max(limits.burst, 1)),
        "day": day,
        "max_calls": limits.daily_calls,
        "max_rows": limits.daily_rows,
    }
    with write_lock(engine), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Counters need no fsync of their own: a crash may forget the last few calls,
            # never admit one twice. Saves a WAL flush per call.
            conn.exec_driver_sql("SET LOCAL synchronous_commit TO off")
        counted = ADMIT.first(conn, params)
        if counted is not None:
            calls, rows = counted
            left = max(0, limits.daily_rows - int(rows))
            return Allowance(limits.daily_calls - int(calls), left, day)
        stored = READ.first(conn, params)
    assert stored is not None  # the upsert found the row, so it exists
    stored_day = as_date(stored[0])
    calls, rows = (int(stored[1]), int(stored[2])) if stored_day == day else (0, 0)
    if calls >= limits.daily_calls or rows >= limits.daily_rows:
        wait = max(1, math.ceil((calendar.local_midnight_after(moment) - moment).total_seconds()))
        which = (
            f"daily call quota of {limits.daily_calls} calls"
            if calls >= limits.daily_calls
            else f"daily row quota of {limits.daily_rows} rows"
        )
        raise TooManyRequests(
            f"{which} is used up for {day.isoformat()}; it renews at local midnight",
            retry_after=wait,
            limit="quota",
        )
    wait = max(1, math.ceil(1 / max(limits.rate_limit, 1)))
    raise TooManyRequests(
        f"rate limit of {limits.rate_limit} requests per second exceeded "
        f"(burst {limits.burst}); retry in {wait} second{'s' if wait > 1 else ''}",
        retry_after=wait,
        limit="rate",
    )


def today_counts(session: Session, application_id: int, day: date) -> tuple[int, int]:
    """(calls, rows) of `day` so far."""
    counter = session.get(Counter, application_id)
    if counter is None or as_date(counter.day) != day:
        return 0, 0
    return counter.calls, counter.rows
