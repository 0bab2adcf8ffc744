"""Reading telemetry and status messages: JSON in, flat readings or precise refusals out.

A telemetry message is one reading set `{"ts": ..., "values": {"pm25": 35.2}}`, a batch
`{"points": [{"ts": ..., "values": {...}}, ...]}`, or a columnar batch
`{"ts": [t0, t1, ...], "values": {"pm25": [v0, v1, ...], ...}}` (null: no reading).
`ts` is ISO 8601 with a UTC offset or epoch milliseconds; without `ts` the reading is
stamped when it arrived. Values are numbers (true/false count as 1/0).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import orjson

from cityhub.sensing.reasons import Reason

STATES = ("ok", "online", "offline", "fault", "maintenance")
_MAX_EPOCH_MS = 10**14  # year 5138: beyond is not a timestamp in milliseconds


class MessageRefused(Exception):
    """The whole message is refused (nothing in it could be read)."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass
class Readings:
    """Flat columns of one message's readings, plus the readings refused while reading."""

    metrics: list[str] = field(default_factory=list)
    ts_ms: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    point_index: list[int] = field(default_factory=list)  # which point of a batch
    refused: list[tuple[int, str, Reason, str]] = field(default_factory=list)  # idx, metric


def decode(body: bytes | str | Any) -> Any:
    """The JSON document of a body (strict: no NaN or Infinity); parsed objects pass through."""
    if not isinstance(body, bytes | str):
        return body
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MessageRefused(Reason.malformed, f"the body is not valid JSON: {exc}") from None


def parse_ts(raw: Any, received_ms: int) -> int:
    """Epoch milliseconds of a timestamp; ValueError says why it cannot be read."""
    if raw is None:
        return received_ms
    if isinstance(raw, bool):
        raise ValueError("ts must be an ISO 8601 string or epoch milliseconds, not true/false")
    if isinstance(raw, int | float):
        if not (math.isfinite(raw) and 0 <= raw < _MAX_EPOCH_MS):
            raise ValueError(f"ts {raw!r} is not epoch milliseconds")
        return int(raw)
    if isinstance(raw, str):
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"ts {raw[:40]!r} is not an ISO 8601 timestamp") from None
        if moment.tzinfo is None:
            raise ValueError(f"ts {raw[:40]!r} has no UTC offset (add Z or +08:00)")
        return int(moment.timestamp() * 1000)
    raise ValueError("ts must be an ISO 8601 string or epoch milliseconds")


def _add_point(out: Readings, index: int, point: Any, received_ms: int) -> None:
    if not isinstance(point, dict):
        out.refused.append((index, "", Reason.malformed, "a point must be a JSON object"))
        return
    values = point.get("values")
    if not isinstance(values, dict) or not values:
        out.refused.append(
            (index, "", Reason.malformed, "a point needs `values`: an object of metric: number")
        )
        return
    ts = point.get("ts")
    if type(ts) is not int or not 0 <= ts < _MAX_EPOCH_MS:  # epoch ms: the common case
        try:
            ts = parse_ts(ts, received_ms)
        except ValueError as exc:
            for name in values:
                out.refused.append((index, str(name), Reason.bad_timestamp, str(exc)))
            return
    numbers = list(values.values())
    if _PLAIN.issuperset(map(type, numbers)):  # the common case: every value a plain number
        out.metrics.extend(values)
        out.values.extend(numbers)
        n = len(numbers)
        out.ts_ms.extend([ts] * n)
        out.point_index.extend([index] * n)
        return
    _add_values(out, index, ts, values)


_PLAIN = frozenset({float, int})


def _add_values(out: Readings, index: int, ts: int, values: dict[str, Any]) -> None:
    """Value by value, for a point with something other than plain numbers in it."""
    metrics, stamps, numbers, where = out.metrics, out.ts_ms, out.values, out.point_index
    for name, value in values.items():
        kind = type(value)
        if kind is float or kind is int or kind is bool:
            try:
                numbers.append(float(value))
            except OverflowError:
                out.refused.append((index, name, Reason.out_of_range, f"{name} is too large"))
                continue
            metrics.append(name)
            stamps.append(ts)
            where.append(index)
        else:
            shown = json.dumps(value, ensure_ascii=False)[:40]
            out.refused.append((index, name, Reason.wrong_type, f"{name}={shown} is not a number"))


def read_telemetry(body: bytes | str | Any, received_ms: int, max_points: int) -> Readings:
    """The readings of a telemetry message, or MessageRefused for the whole of it."""
    doc = decode(body)
    if not isinstance(doc, dict):
        raise MessageRefused(Reason.malformed, "the message must be a JSON object")
    out = Readings()
    if isinstance(doc.get("ts"), list):
        return _read_columns(doc, received_ms, max_points)
    if "points" in doc:
        points = doc["points"]
        if not isinstance(points, list):
            raise MessageRefused(Reason.malformed, "`points` must be a list")
        if not points:
            raise MessageRefused(Reason.malformed, "`points` is empty")
        if _read_uniform(out, points):
            if len(out.values) > max_points:
                raise MessageRefused(
                    Reason.too_large,
                    f"{len(out.values)} readings in one message; at most {max_points}",
                )
            return out
        total = sum(
            len(p["values"])
            for p in points
            if isinstance(p, dict) and isinstance(p.get("values"), dict)
        )
        if total > max_points:
            raise MessageRefused(
                Reason.too_large, f"{total} readings in one message; at most {max_points}"
            )
        for index, point in enumerate(points):
            _add_point(out, index, point, received_ms)
        return out
    if "values" not in doc:
        raise MessageRefused(
            Reason.malformed, 'expected {"ts": ..., "values": {...}} or {"points": [...]}'
        )
    values = doc.get("values")
    if isinstance(values, dict) and len(values) > max_points:
        raise MessageRefused(
            Reason.too_large, f"{len(values)} readings in one message; at most {max_points}"
        )
    _add_point(out, 0, doc, received_ms)
    if out.refused and out.refused[0][2] == Reason.malformed:
        raise MessageRefused(Reason.malformed, out.refused[0][3])
    return out


def _read_uniform(out: Readings, points: list[Any]) -> bool:
    """The common batch in bulk: every point a dict with epoch-ms `ts` and the same metrics,
    every value a plain number. False (nothing added) for anything else: the point-by-point
    reader then finds and explains what is wrong."""
    try:
        stamps = [p["ts"] for p in points]
        rows = [p["values"] for p in points]
    except (TypeError, KeyError, IndexError):
        return False
    if not _INTS.issuperset(map(type, stamps)) or not _DICTS.issuperset(map(type, rows)):
        return False
    names = list(rows[0])
    if not names or any(list(row) != names for row in rows):
        return False
    numbers = [v for row in rows for v in row.values()]
    if not _PLAIN.issuperset(map(type, numbers)):
        return False
    ts = np.asarray(stamps, dtype=np.int64)
    if ts.size and (int(ts.min()) < 0 or int(ts.max()) >= _MAX_EPOCH_MS):
        return False
    width = len(names)
    out.metrics = names * len(rows)
    out.values = numbers
    out.ts_ms = np.repeat(ts, width).tolist()
    out.point_index = np.repeat(np.arange(len(rows)), width).tolist()
    return True


_DICTS = frozenset({dict})
_NUMBERS = frozenset({float, int, type(None)})


def _read_columns(doc: dict[str, Any], received_ms: int, max_points: int) -> Readings:
    """The columnar batch `{"ts": [t0, t1, ...], "values": {"pm25": [v0, v1, ...]}}`:
    one list per metric, aligned with `ts`; null means no reading. Read without a Python
    loop per reading, for gateways and bulk uploads."""
    stamps, columns = doc["ts"], doc.get("values")
    if not isinstance(columns, dict) or not columns:
        raise MessageRefused(Reason.malformed, "`values` must map each metric to a list")
    n = len(stamps)
    total = n * len(columns)
    if total > max_points:
        raise MessageRefused(
            Reason.too_large, f"{total} readings in one message; at most {max_points}"
        )
    out = Readings()
    if _INTS.issuperset(map(type, stamps)):
        ts = np.asarray(stamps, dtype=np.int64) if n else np.zeros(0, dtype=np.int64)
        bad_ts = (ts < 0) | (ts >= _MAX_EPOCH_MS)
    else:  # ISO strings or mistakes: one by one
        parsed = []
        for raw in stamps:
            try:
                parsed.append(parse_ts(raw, received_ms) if raw is not None else -1)
            except ValueError:
                parsed.append(-1)
        ts = np.asarray(parsed, dtype=np.int64)
        bad_ts = ts < 0
    positions = np.arange(n)
    for name, column in columns.items():
        if not isinstance(column, list) or len(column) != n:
            raise MessageRefused(
                Reason.malformed, f"values.{name} must be a list as long as ts ({n})"
            )
        if _NUMBERS.issuperset(map(type, column)):
            vals = np.asarray(column, dtype=np.float64) if n else np.zeros(0)
            wrong = np.zeros(n, dtype=bool)
        else:
            vals = np.full(n, np.nan)
            wrong = np.zeros(n, dtype=bool)
            for k, value in enumerate(column):
                if type(value) in _NUMBERS or type(value) is bool:
                    vals[k] = np.nan if value is None else float(value)
                else:
                    wrong[k] = True
        present = ~np.isnan(vals) & ~wrong
        for k in np.flatnonzero(wrong).tolist():
            shown = json.dumps(column[k], ensure_ascii=False)[:40]
            out.refused.append((k, name, Reason.wrong_type, f"{name}={shown} is not a number"))
        for k in np.flatnonzero(present & bad_ts).tolist():
            out.refused.append((k, name, Reason.bad_timestamp, f"ts[{k}] is not a timestamp"))
        keep = present & ~bad_ts
        count = int(keep.sum())
        out.metrics.extend([name] * count)
        out.ts_ms.extend(ts[keep].tolist())
        out.values.extend(vals[keep].tolist())
        out.point_index.extend(positions[keep].tolist())
    return out


_INTS = frozenset({int})


@dataclass(frozen=True)
class StatusReport:
    state: str
    code: str | None = None
    message: str = ""


def read_status(body: bytes | str | Any) -> StatusReport:
    """A device's own status report: {"state": "ok|online|offline|fault|maintenance", ...}."""
    doc = decode(body)
    if not isinstance(doc, dict):
        raise MessageRefused(Reason.malformed, "a status message must be a JSON object")
    state = doc.get("state")
    if state not in STATES:
        raise MessageRefused(
            Reason.malformed, f"state must be one of {', '.join(STATES)}; got {state!r}"[:200]
        )
    code = doc.get("code")
    if code is not None and not isinstance(code, str | int):
        raise MessageRefused(Reason.malformed, "code must be a string")
    message = doc.get("message", "")
    if not isinstance(message, str):
        raise MessageRefused(Reason.malformed, "message must be a string")
    return StatusReport(str(state), str(code)[:64] if code is not None else None, message[:256])
