"""Which events are notarized, and how an event becomes a ledger entry.

An entry is RFC 8785 canonical JSON holding identifiers, codes, counts, statuses, times
and digests. Everything else in an event is replaced by its SM3 digest (so it can still be
proven later by whoever holds the value), and credentials and personal fields are dropped:
the ledger is published to witnesses and consumers, so it never holds personal data.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import rfc8785

from cityhub.core.events import Event
from cityhub.ledger.store import NewEntry
from cityhub.ledger.verify import hash_function

# What an entry keeps is part of its meaning: any change to the rules below must bump
# this, so the audit compares old entries only with the rules they were made by.
ENTRY_VERSION = 1
# Deliveries, versions, sharing decisions, credentials, quarantine and configuration.
_NOTARIZED: list[str] = [
    "catalog.resource.published",
    "catalog.resource.withdrawn",
    "catalog.resource.version.*",
    "gateway.request.created",
    "gateway.request.approved",
    "gateway.request.rejected",
    "gateway.request.withdrawn",
    "gateway.application.limits",  # a configuration change: an application's rate limits
    "gateway.grant.created",
    "gateway.grant.revoked",
    "gateway.grant.expired",
    "security.apikey.created",
    "security.apikey.revoked",
    "exchange.batch.*",
    "exchange.quarantine.*",
    "library.snapshot.*",
    "config.*",
    "ledger.witness.*",
]

_SAFE_KEYS = frozenset(
    [
        "id",
        "code",
        "version",
        "status",
        "decision",
        "scope",
        "kind",
        "level",
        "count",
        "rows",
        "size",
        "digest",
        "hash",
        "sha256",
        "sm3",
        "algorithm",
        "format",
        "sharing",
        "opening",
        "grade",
        "classification",
        "resource",
        "batch",
        "provider",
        "consumer",
        "application",
        "organization",
        "department",
        "ledger",
        "witness",
        "topic",
        "fields",
        "columns",
        "at",
    ]
)
_SAFE_SUFFIXES = ("_id", "_ids", "_code", "_codes", "_count", "_rows", "_digest", "_hash",
                  "_sha256", "_sm3", "_at", "_status", "_version", "_size", "_kind", "_prefix",
                  "_scope", "_level", "_type", "_format", "_decision", "_until", "_from",
                  "_to")  # fmt: skip
# Credentials and people: dropped outright (a digest of a low-entropy value is no secret).
_DROPPED = re.compile(
    r"(^|_)(password|secret|token|raw|api_key|private|username|user|actor|person|display_name"
    r"|email|phone|mobile|id_number|address|ip|contact|name)($|_)"
)
_ID_LIKE = re.compile(r"^\d{17}[\dXx]$|^1\d{10}$")  # GB 11643 numbers, mobile numbers
_MAX_TEXT = 128
_MAX_DEPTH = 4
_sm3 = hash_function("sm3")


def register_topic(pattern: str) -> None:
    """Let a later package notarize its own events (shell-style pattern)."""
    if pattern not in _NOTARIZED:
        _NOTARIZED.append(pattern)


def notarized_patterns() -> tuple[str, ...]:
    return tuple(_NOTARIZED)


def is_notarized(topic: str) -> bool:
    return any(fnmatch.fnmatchcase(topic, p) for p in _NOTARIZED)


def like_patterns() -> list[str]:
    """SQL LIKE forms of the patterns (broader where `_` matches any one character;
    `is_notarized` filters exactly afterwards)."""
    return [p.replace("*", "%").replace("?", "_") for p in _NOTARIZED]


def canonical(value: Any) -> str:
    return rfc8785.dumps(value).decode()


def digest(value: Any) -> str:
    return "sm3:" + _sm3(rfc8785.dumps(value)).hex()


_SAFE_PREFIXES = ("rows_", "count_", "num_", "n_")
_COUNT_SUFFIXES = ("_accepted", "_rejected", "_quarantined", "_total", "_bytes", "_merged")


def _safe_key(key: str) -> bool:
    return (
        key in _SAFE_KEYS
        or key.endswith(_SAFE_SUFFIXES + _COUNT_SUFFIXES)
        or key.startswith(_SAFE_PREFIXES)
    )


def _scalar_ok(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        return abs(value) <= 2**53
    if isinstance(value, str):
        return len(value) <= _MAX_TEXT and not _ID_LIKE.match(value)
    return False


def _publishable(value: Any) -> bool:
    if isinstance(value, list):
        return len(value) <= 256 and all(_scalar_ok(v) for v in value)
    return _scalar_ok(value)


def sanitize(data: Mapping[str, Any], depth: int = 0) -> dict[str, Any]:
    """Keep what is safe to publish, digest the rest, drop credentials and personal fields."""
    out: dict[str, Any] = {}
    for raw_key, value in data.items():
        key = str(raw_key)
        lowered = key.lower()
        if _DROPPED.search(lowered) and not _safe_key(lowered):
            continue
        if isinstance(value, Mapping) and depth < _MAX_DEPTH:
            out[key] = sanitize(value, depth + 1)
        elif _safe_key(lowered) and _publishable(value):
            out[key] = value
        else:
            out[key] = digest(_jsonable(value))
    return out


def _jsonable(value: Any) -> Any:
    """Make a value canonicalizable: floats that JCS refuses and other types become text."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value if abs(value) <= 2**53 else str(value)
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    return str(value)


def _timestamp(at: datetime) -> str:
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _first(data: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = data.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            return str(value)[:64]
    return None


def entry_for(event: Event) -> NewEntry:
    """The ledger entry of an outbox event."""
    data = sanitize(
        event.payload if isinstance(event.payload, Mapping) else {"value": event.payload}
    )
    body: dict[str, Any] = {
        "v": ENTRY_VERSION,
        "event_id": event.id,
        "topic": event.topic,
        "at": _timestamp(event.at),
        "data": data,
    }
    if event.actor:  # who acted, provable by whoever knows the name, unreadable otherwise
        body["actor_digest"] = digest({"actor": event.actor})
    payload = event.payload if isinstance(event.payload, Mapping) else {}
    resource = _first(payload, "resource_code", "resource")
    if resource is None and event.topic.startswith("catalog.resource"):
        resource = _first(payload, "code")
    batch = _first(payload, "batch_id", "batch", "batch_ref", "delivery_id")
    return NewEntry(
        body=canonical(body),
        topic=event.topic,
        event_id=event.id,
        resource_code=resource,
        batch_ref=batch,
    )
