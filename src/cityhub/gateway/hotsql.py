"""Plain SQL on the driver's cursor, for the few queries every data call runs.

SQLAlchemy builds a cache key for each statement it executes, which costs more than a
small indexed query itself. The hot path (key lookup, grants, the rate-limit upsert)
therefore sends fixed SQL texts straight to the DBAPI cursor of a pooled connection:
`:name` parameters become `?` (SQLite) or `%(name)s` (psycopg). Values are bound, never
formatted into the text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection

_NAME = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


class Hot:
    """One SQL text with `:name` parameters, ready for both drivers."""

    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.names = _NAME.findall(sql)
        self.qmark = _NAME.sub("?", sql)
        self.pyformat = _NAME.sub(r"%(\1)s", sql.replace("%", "%%"))

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> Sequence[tuple[Any, ...]]:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        try:
            if conn.dialect.name == "sqlite":
                cursor.execute(self.qmark, [_sqlite(params[n]) for n in self.names])
            else:
                cursor.execute(self.pyformat, dict(params))
            return cursor.fetchall() if cursor.description is not None else []
        finally:
            cursor.close()

    def first(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        found = self.rows(conn, params)
        return found[0] if found else None


def _sqlite(value: Any) -> Any:
    """Values as SQLAlchemy stores them in SQLite: UTC text timestamps, ISO dates."""
    if isinstance(value, datetime):
        utc = value.astimezone(UTC) if value.tzinfo else value
        return utc.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def as_datetime(value: Any) -> datetime | None:
    """A stored timestamp as an aware UTC datetime (SQLite hands back text)."""
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
