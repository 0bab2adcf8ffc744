"""Fetching for pull connectors: the records of an HTTP JSON endpoint page by page, or
the rows of a SQL table past a high-water mark, streamed as bytes (NDJSON or CSV) into
the same intake as an upload. A source that is down raises `SourceDown`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import httpx
import polars as pl
from sqlalchemy import MetaData, Table, create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import NoSuchTableError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from cityhub.errors import CityHubError, ValidationFailed

MAX_PAGES = 100_000


class SourceDown(CityHubError):
    status, type, title = 502, "https://cityhub.dev/problems/source-down", "Source unavailable"


# -- fetching --------------------------------------------------------------------------------


@dataclass
class Fetch:
    high_water: str | None
    rows: int = 0


def _dig(data: Any, path: str) -> Any:
    for part in [p for p in path.split(".") if p]:
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _later(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    try:
        return b if b > a else a
    except TypeError:
        return b if str(b) > str(a) else a


def http_lines(
    config: dict[str, Any], high_water: str | None, client: httpx.Client, fetch: Fetch,
    timeout: float,
) -> Iterator[bytes]:  # fmt: skip
    """The records of every page, as NDJSON bytes."""
    url = config["url"]
    paging = config.get("paging", "none")
    size = int(config.get("page_size", 1000))
    page = int(config.get("start_page", 1))
    offset = 0
    cursor: Any = None
    mark: Any = None
    for _ in range(MAX_PAGES):
        params: dict[str, Any] = dict(config.get("params", {}))
        if paging == "page":
            params[config.get("page_param", "page")] = page
            params[config.get("size_param", "size")] = size
        elif paging == "offset":
            params[config.get("page_param", "offset")] = offset
            params[config.get("size_param", "limit")] = size
        elif paging == "cursor" and cursor is not None:
            params[config.get("cursor_param", "cursor")] = cursor
        if config.get("since_param") and high_water is not None:
            params[config["since_param"]] = high_water
        try:
            response = client.get(url, params=params, headers=config.get("headers", {}),
                                  timeout=timeout)  # fmt: skip
        except httpx.HTTPError as exc:
            raise SourceDown(f"source {url} is unreachable: {type(exc).__name__}: {exc}") from None
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise SourceDown(f"source {url} answered HTTP {response.status_code}; retried later")
        if response.status_code >= 400:
            raise ValidationFailed(f"source {url} refused the request: HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            raise ValidationFailed(f"source {url} did not answer JSON") from None
        items = _dig(data, config.get("items_path", "")) if config.get("items_path") else data
        if not isinstance(items, list):
            raise ValidationFailed(
                f"source {url}: no list of records at items_path {config.get('items_path', '')!r}"
            )
        for record in items:
            if not isinstance(record, dict):
                raise ValidationFailed(f"source {url}: a record is not a JSON object")
            if config.get("since_field"):
                mark = _later(mark, record.get(config["since_field"]))
            yield (json.dumps(record, ensure_ascii=False, default=str) + "\n").encode()
        fetch.rows += len(items)
        if paging == "none" or not items:
            break
        if paging == "cursor":
            cursor = _dig(data, config.get("cursor_path", "next"))
            if not cursor:
                break
        elif len(items) < size:
            break
        page += 1
        offset += len(items)
    if mark is not None:
        fetch.high_water = str(mark)


def _coerce(column: Any, value: str) -> Any:
    try:
        kind = column.type.python_type
    except NotImplementedError:
        return value
    if kind is int:
        return int(value)
    if kind is float:
        return float(value)
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value)
    return value


def sql_lines(
    config: dict[str, Any], high_water: str | None, fetch: Fetch, timeout: float
) -> Iterator[bytes]:
    """The table's rows past the high-water mark, as CSV bytes (header first)."""
    url = config["url"]
    safe = make_url(url).render_as_string(hide_password=True)
    connect_args = {"connect_timeout": int(timeout)} if url.startswith("postgresql") else {}
    engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
    try:
        with engine.connect() as conn:
            try:
                table = Table(config["table"], MetaData(), autoload_with=conn)
            except NoSuchTableError:
                raise ValidationFailed(f"source {safe} has no table {config['table']!r}") from None
            names = config.get("columns") or [c.name for c in table.columns]
            missing = [n for n in names if n not in table.c]
            if missing:
                raise ValidationFailed(
                    f"source table {config['table']} has no column(s) {', '.join(missing)}"
                )
            stmt = select(*[table.c[n] for n in names])
            inc = config.get("incremental_column")
            if inc:
                if inc not in table.c:
                    raise ValidationFailed(f"source table has no column {inc!r}")
                column = table.c[inc]
                if high_water is not None:
                    stmt = stmt.where(column > _coerce(column, high_water))
                stmt = stmt.order_by(column)
                if inc not in names:
                    stmt = stmt.add_columns(column)
            result = conn.execution_options(stream_results=True).execute(stmt)
            first = True
            mark: Any = None
            for part in result.partitions(int(config.get("batch_rows", 10_000))):
                frame = pl.DataFrame([tuple(r) for r in part], schema=list(result.keys()),
                                     orient="row", infer_schema_length=None)  # fmt: skip
                if inc:
                    mark = _later(mark, frame.get_column(inc).max())
                    if inc not in names:
                        frame = frame.drop(inc)
                fetch.rows += frame.height
                yield frame.write_csv(include_header=first).encode()
                first = False
            if mark is not None:
                fetch.high_water = mark.isoformat() if hasattr(mark, "isoformat") else str(mark)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise SourceDown(f"source database {safe} failed: {reason}") from None
    finally:
        engine.dispose()
