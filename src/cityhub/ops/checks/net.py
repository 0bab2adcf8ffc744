"""Network checks: HTTP(S), a TCP port, an MQTT broker."""

from __future__ import annotations

import contextlib
import socket
import time
import uuid

import httpx

from cityhub import __version__
from cityhub.ops.checks.base import CheckContext, CheckResult, ProbeSpec, connect_reason, elapsed_ms
from cityhub.ops.schemas import HttpParams
from cityhub.ops.targets import mask, mqtt_target, split_host_port
from cityhub.ops.vocab import Outcome

MAX_BODY = 1024 * 1024  # read at most this much looking for the expected text
_DOWN = Outcome.down


def base_url(ctx: CheckContext) -> str:
    """Where the platform itself answers, for targets written as /path."""
    if ctx.settings.ops_base_url:
        return ctx.settings.ops_base_url
    host = ctx.settings.host
    host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{ctx.settings.port}"


def resolve_url(ctx: CheckContext, target: str) -> str:
    return base_url(ctx) + target if target.startswith("/") else target


def check_http(ctx: CheckContext, spec: ProbeSpec) -> CheckResult:
    params = HttpParams.model_validate(spec.params)
    url = resolve_url(ctx, spec.target)
    shown = mask(url)
    limit = spec.timeout_seconds
    started = time.perf_counter()
    try:
        with (
            httpx.Client(
                timeout=httpx.Timeout(limit),
                verify=params.verify_tls,
                follow_redirects=params.follow_redirects,
                headers={"User-Agent": f"cityhub-probe/{__version__}"},
                trust_env=False,
            ) as client,
            client.stream(params.method, url) as response,
        ):
            body = b""
            if params.expected_text:
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) >= MAX_BODY or time.perf_counter() - started > limit:
                        break
            status = response.status_code
    except httpx.TimeoutException as exc:
        phase = type(exc).__name__.removesuffix("Timeout").lower() or "answer"
        return CheckResult(
            _DOWN, elapsed_ms(started), f"timed out after {limit:g}s ({phase}) at {shown}"
        )
    except httpx.ConnectError as exc:
        return CheckResult(_DOWN, elapsed_ms(started), connect_reason(exc, shown))
    except httpx.HTTPError as exc:
        return CheckResult(_DOWN, elapsed_ms(started), f"{type(exc).__name__} at {shown}: {exc}")
    latency = elapsed_ms(started)
    if latency > limit * 1000:
        return CheckResult(_DOWN, latency, f"timed out after {limit:g}s reading {shown}")
    wanted = params.expected_status
    if (wanted and status not in wanted) or (not wanted and not 200 <= status < 400):
        expected = ", ".join(map(str, wanted)) if wanted else "200-399"
        return CheckResult(_DOWN, latency, f"HTTP {status} (expected {expected}) from {shown}")
    if params.expected_text and params.expected_text.encode() not in body:
        return CheckResult(
            _DOWN, latency, f"HTTP {status} but the answer lacks {params.expected_text!r}"
        )
    if params.max_latency_ms is not None and latency > params.max_latency_ms:
        return CheckResult(
            Outcome.degraded,
            latency,
            f"HTTP {status} in {latency:.0f} ms, slower than {params.max_latency_ms} ms",
        )
    return CheckResult(Outcome.up, latency, f"HTTP {status} in {latency:.0f} ms")


def check_tcp(ctx: CheckContext, spec: ProbeSpec) -> CheckResult:
    host, port = split_host_port(spec.target)
    where = spec.target
    started = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=spec.timeout_seconds):
            pass
    except TimeoutError:
        return CheckResult(
            _DOWN,
            elapsed_ms(started),
            f"no answer from {where} within {spec.timeout_seconds:g}s",
        )
    except OSError as exc:
        return CheckResult(_DOWN, elapsed_ms(started), connect_reason(exc, where))
    latency = elapsed_ms(started)
    return CheckResult(Outcome.up, latency, f"port {port} open in {latency:.0f} ms")


def check_mqtt(ctx: CheckContext, spec: ProbeSpec) -> CheckResult:
    return mqtt_reachable(spec.target, spec.timeout_seconds)


def mqtt_reachable(url: str, timeout: float) -> CheckResult:
    """Connect to the broker and wait for its CONNACK (MQTT 3.1.1), then disconnect."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    target = mqtt_target(url)
    where = f"{target.host}:{target.port}"
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"cityhub-probe-{uuid.uuid4().hex[:12]}",
        clean_session=True,
        protocol=mqtt.MQTTv311,
    )
    client.connect_timeout = timeout
    if target.username:
        client.username_pw_set(target.username, target.password)
    if target.tls:
        client.tls_set()
    answer: dict[str, object] = {}

    def on_connect(_c: object, _u: object, _f: object, reason: object, _p: object) -> None:
        answer["reason"] = reason

    client.on_connect = on_connect
    started = time.perf_counter()
    deadline = started + timeout
    try:
        client.connect(target.host, target.port, keepalive=max(5, int(timeout * 2)))
        while "reason" not in answer and time.perf_counter() < deadline:
            client.loop(timeout=min(0.1, max(0.01, deadline - time.perf_counter())))
    except TimeoutError:
        return CheckResult(_DOWN, elapsed_ms(started), f"no answer from broker {where} in time")
    except OSError as exc:
        return CheckResult(_DOWN, elapsed_ms(started), connect_reason(exc, f"broker {where}"))
    finally:
        with contextlib.suppress(Exception):  # already closed: nothing to tidy
            client.disconnect()
    latency = elapsed_ms(started)
    reason = answer.get("reason")
    if reason is None:
        return CheckResult(_DOWN, latency, f"broker {where} sent no CONNACK within {timeout:g}s")
    if getattr(reason, "is_failure", False):
        return CheckResult(_DOWN, latency, f"broker {where} refused the connection: {reason}")
    return CheckResult(Outcome.up, latency, f"broker {where} answered in {latency:.0f} ms")
