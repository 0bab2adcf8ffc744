"""The checks behind probes, one function per probe kind.

A check takes a `ProbeSpec` (a plain copy of the probe, safe in any thread) and returns a
`CheckResult`; it never raises for a failing target, and bounds every wait by the
probe's timeout. `run_check` is the error boundary around them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from cityhub.ops.checks.base import CheckContext, CheckResult, ProbeSpec, elapsed_ms
from cityhub.ops.checks.data import check_database, check_device_online, check_freshness
from cityhub.ops.checks.net import check_http, check_mqtt, check_tcp
from cityhub.ops.checks.platform import check_platform
from cityhub.ops.vocab import Outcome, ProbeKind

log = logging.getLogger("cityhub.ops.checks")

Check = Callable[[CheckContext, ProbeSpec], CheckResult]

CHECKS: dict[ProbeKind, Check] = {
    ProbeKind.http: check_http,
    ProbeKind.tcp: check_tcp,
    ProbeKind.database: check_database,
    ProbeKind.mqtt: check_mqtt,
    ProbeKind.freshness: check_freshness,
    ProbeKind.device_online: check_device_online,
    ProbeKind.platform: check_platform,
}


def run_check(ctx: CheckContext, spec: ProbeSpec) -> CheckResult:
    """Run the probe's check; an unexpected error is a failed run that says what happened."""
    import time

    started = time.perf_counter()
    try:
        return CHECKS[spec.kind](ctx, spec)
    except Exception as exc:
        log.exception("probe check raised", extra={"probe": spec.id})
        return CheckResult(
            Outcome.down, elapsed_ms(started), f"probe error: {type(exc).__name__}: {exc}"
        )


__all__ = ["CHECKS", "CheckContext", "CheckResult", "ProbeSpec", "run_check"]
