"""Durations written by people: `30s`, `5m`, `1h30m`, `2d`, or a number of seconds."""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
HELP = "a duration such as 30s, 5m, 1h30m or 2d, or a number of seconds"


def parse_duration(value: str | float | int) -> float:
    """Seconds in `value`, or ValueError saying what a duration looks like."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not {HELP}")
    if isinstance(value, int | float):
        return float(value)
    text = value.strip().lower().replace(" ", "")
    if not text:
        raise ValueError(f"empty duration; use {HELP}")
    try:
        return float(text)
    except ValueError:
        pass
    pos, total = 0, 0.0
    for match in _PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text) or pos == 0:
        raise ValueError(f"{value!r} is not {HELP}")
    return total


def format_duration(seconds: float | None) -> str:
    """`3d 4h`, `2h 5m`, `4m 10s`, `12s`: two units at most, for tables."""
    if seconds is None:
        return "—"
    seconds = max(0, round(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")]
    shown = [f"{n}{u}" for n, u in parts if n][:2]
    return " ".join(shown) or "0s"
