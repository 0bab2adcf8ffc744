"""Rate limits and daily quotas: counted in the database, refused with 429 and Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from cityhub.core.db import make_engine
from cityhub.errors import TooManyRequests
from cityhub.gateway.limits import Limits, admit
from cityhub.gateway.models import Counter
from cityhub.gateway.workdays import Calendar
from cityhub.security.models import Role

from .conftest import Gw
from .helpers import PEOPLE, problem

URL = f"/api/v1/resources/{PEOPLE}/rows?limit=10"


def _limit(gw: Gw, app_id: int, **values: int) -> None:
    admin = gw.person(Role.platform_admin, org="LYZHYY")
    answer = gw.client.put(f"/api/v1/applications/{app_id}/limits", json=values, headers=admin)
    assert answer.status_code == 200, answer.text


def test_over_the_rate_limit_is_429_with_retry_after(people: Gw) -> None:
    gw = people
    key, app_id = gw.granted_key(PEOPLE)
    _limit(gw, app_id, rate_limit=1, burst=3)
    statuses = [gw.client.get(URL, headers=key).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]  # the burst
    refused = gw.client.get(URL, headers=key)
    body = problem(refused, 429, "rate limit of 1 requests per second exceeded")
    assert refused.headers["Retry-After"] == "1"
    assert body["limit"] == "rate"


def test_the_daily_call_quota(people: Gw) -> None:
    gw = people
    key, app_id = gw.granted_key(PEOPLE)
    _limit(gw, app_id, daily_calls=2)
    assert gw.client.get(URL, headers=key).headers["X-Quota-Calls-Remaining"] == "1"
    assert gw.client.get(URL, headers=key).status_code == 200
    refused = gw.client.get(URL, headers=key)
    body = problem(refused, 429, "daily call quota of 2 calls is used up")
    assert body["limit"] == "quota"
    wait = int(refused.headers["Retry-After"])
    assert 0 < wait <= 24 * 3600  # until local midnight


def test_the_daily_row_quota_counts_returned_rows(people: Gw) -> None:
    gw = people
    gw.settings.meter_flush_seconds = 0  # rows are counted as each call is metered
    key, app_id = gw.granted_key(PEOPLE)
    _limit(gw, app_id, daily_rows=25)
    for _ in range(3):
        assert gw.client.get(URL, headers=key).status_code == 200  # 30 rows: over after this
    problem(gw.client.get(URL, headers=key), 429, "daily row quota of 25 rows")
    with gw.db() as session:
        counter = session.scalars(select(Counter)).one()
        assert (counter.calls, counter.rows) == (3, 30)


def test_an_export_stops_at_the_rows_left(people: Gw) -> None:
    gw = people
    key, app_id = gw.granted_key(PEOPLE)
    _limit(gw, app_id, daily_rows=40)
    answer = gw.client.get(f"/api/v1/resources/{PEOPLE}/rows?format=ndjson", headers=key)
    assert answer.headers["X-Quota-Rows-Remaining"] == "40"
    assert len(answer.text.splitlines()) == 40


def test_counters_are_atomic_upserts_shared_by_workers(people: Gw) -> None:
    """Two engines (two workers) on one database share one bucket."""
    gw = people
    _key, app_id = gw.granted_key(PEOPLE)
    limits = Limits(app_id, rate_limit=1, burst=4, daily_calls=1000, daily_rows=1000)
    calendar = Calendar()
    now = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
    first = make_engine(gw.settings.effective_database_url)
    second = make_engine(gw.settings.effective_database_url)
    try:
        admitted = 0
        for i in range(6):
            try:
                admit(first if i % 2 else second, limits, calendar, now)
                admitted += 1
            except TooManyRequests:
                pass
        assert admitted == 4
        # One second later the bucket has one token again.
        admit(first, limits, calendar, now + timedelta(seconds=1))
        with pytest.raises(TooManyRequests):
            admit(second, limits, calendar, now + timedelta(seconds=1))
    finally:
        first.dispose()
        second.dispose()
