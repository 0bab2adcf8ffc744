"""Probe targets: their syntax per kind, and passwords hidden when they are shown."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

from cityhub.ops.vocab import PlatformPart, ProbeKind

_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_ORG_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$")
_RESOURCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_READ_START = re.compile(r"^\s*(select|with|values|show)\b", re.IGNORECASE)


@dataclass(frozen=True)
class MqttTarget:
    tls: bool
    host: str
    port: int
    username: str | None
    password: str | None


def split_host_port(text: str) -> tuple[str, int]:
    """`host:port` or `[v6]:port` → (host, port), or ValueError saying what is wrong."""
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise ValueError(f"{text!r} is not host:port (IPv6 as [::1]:5432)")
        port_text = rest[1:]
    else:
        host, sep, port_text = text.rpartition(":")
        if not sep or ":" in host:
            raise ValueError(f"{text!r} is not host:port, e.g. 10.1.2.3:5432 or [::1]:5432")
        if not _HOST.match(host):
            raise ValueError(f"{host!r} is not a host name or address")
    if not host:
        raise ValueError(f"{text!r} has no host")
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"port {port_text!r} of {text!r} is not 1-65535")
    return host, int(port_text)


def _check_http(target: str) -> str:
    if target.startswith("/"):
        if target.startswith("//") or " " in target:
            raise ValueError(f"{target!r} is not a path on this platform (e.g. /healthz)")
        return target
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https"):
        raise ValueError(
            f"{target!r} is not an http:// or https:// URL (or a /path on this platform)"
        )
    if not parts.hostname:
        raise ValueError(f"{target!r} has no host")
    try:
        _ = parts.port
    except ValueError:
        raise ValueError(f"{target!r} has an invalid port") from None
    return target


def _check_database(target: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(target)
    except ArgumentError:
        raise ValueError(
            f"{target!r} is not a database URL, e.g. postgresql://user@host:5432/db"
        ) from None
    backend = url.get_backend_name()
    if backend not in ("postgresql", "sqlite"):
        raise ValueError(
            f"database probes support postgresql:// and sqlite:// URLs, not {backend}://"
        )
    if backend == "postgresql" and not url.host:
        raise ValueError(f"{mask(target)!r} has no host")
    if backend == "sqlite" and not url.database:
        raise ValueError("a sqlite probe needs a file path: sqlite:////path/to/file.db")
    return target


def mqtt_target(target: str) -> MqttTarget:
    parts = urlsplit(target)
    if parts.scheme not in ("mqtt", "mqtts"):
        raise ValueError(f"{mask(target)!r} is not an mqtt:// or mqtts:// URL")
    if not parts.hostname:
        raise ValueError(f"{mask(target)!r} has no host")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{mask(target)!r} has an invalid port") from None
    tls = parts.scheme == "mqtts"
    return MqttTarget(
        tls=tls,
        host=parts.hostname,
        port=port or (8883 if tls else 1883),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def check_target(kind: ProbeKind, target: str) -> str:
    """The target, normalized, or ValueError saying what it should look like."""
    if kind == ProbeKind.http:
        return _check_http(target)
    if kind == ProbeKind.tcp:
        split_host_port(target)
        return target
    if kind == ProbeKind.database:
        return _check_database(target)
    if kind == ProbeKind.mqtt:
        mqtt_target(target)
        return target
    if kind == ProbeKind.freshness:
        if not _RESOURCE.match(target):
            raise ValueError(f"{target!r} is not a catalog resource code")
        return target
    if kind == ProbeKind.device_online:
        if target != "*" and not _ORG_CODE.match(target):
            raise ValueError(f"{target!r} is not an organization code (or * for all devices)")
        return target
    try:
        return PlatformPart(target).value
    except ValueError:
        parts = ", ".join(p.value for p in PlatformPart)
        raise ValueError(f"{target!r} is not a part of the platform; use one of {parts}") from None


def check_read_query(query: str) -> None:
    """One reading statement (it also runs in a read-only transaction)."""
    body = query.strip().rstrip(";")
    if ";" in body:
        raise ValueError("a probe query is one statement")
    if not _READ_START.match(body):
        raise ValueError("a probe query only reads: start it with SELECT, WITH, VALUES or SHOW")


def mask(target: str) -> str:
    """The target with any password in it replaced by ***."""
    if "://" not in target:
        return target
    parts = urlsplit(target)
    if parts.password is None:
        return target
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
