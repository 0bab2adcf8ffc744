"""Alarm rules at work: evaluated on every stored batch (threshold, rate of change) and by
the upkeep sweep (no data), with one open alarm per rule and device (de-duplication) and
the lifecycle raised → acknowledged → cleared. Every change is an event on the bus and a
signed webhook notification, written in the same transaction as the change itself.
"""

from __future__ import annotations

import operator
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from cityhub.core.db import utcnow
from cityhub.core.events import emit
from cityhub.directory.models import Organization
from cityhub.sensing import webhooks
from cityhub.sensing.devices_state import at_ms
from cityhub.sensing.models import (
    Alarm,
    AlarmRule,
    AlarmState,
    Device,
    DeviceMode,
    LatestValue,
    ProfileMetric,
    RuleKind,
)

OPS: dict[str, Callable[[Any, Any], Any]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
# The opposite test for clearing, against `clear_value` (hysteresis) or the threshold.
CLEAR_OPS: dict[str, Callable[[Any, Any], Any]] = {
    ">": operator.le,
    ">=": operator.lt,
    "<": operator.ge,
    "<=": operator.gt,
}


def open_key(rule_id: int, device_id: int) -> str:
    return f"{rule_id}:{device_id}"


def effective_rules(rules: list[Rule], device_id: int, profile_id: int) -> list[Rule]:
    """A device's rules: its own, then its profile's not overridden by one of the same
    kind and metric."""
    own = [r for r in rules if r.device_id == device_id]
    shadowed = {(r.kind, r.metric) for r in own}
    inherited = [
        r
        for r in rules
        if r.device_id is None and r.profile_id == profile_id and (r.kind, r.metric) not in shadowed
    ]
    return own + inherited


@dataclass(frozen=True)
class Rule:
    """A snapshot of an enabled rule, as the evaluation reads it."""

    id: int
    name: str
    profile_id: int | None
    device_id: int | None
    kind: str
    metric: str | None
    op: str | None
    value: float | None
    clear_value: float | None
    window_s: int | None
    severity: str


def snapshot(rule: AlarmRule) -> Rule:
    return Rule(
        rule.id,
        rule.name,
        rule.profile_id,
        rule.device_id,
        rule.kind,
        rule.metric,
        rule.op,
        rule.value,
        rule.clear_value,
        rule.window_s,
        rule.severity,
    )


RULES_TTL = 5.0  # seconds a process trusts its copy of the rules (its own edits: at once)
_rules_cache: dict[str, tuple[float, int, list[Rule]]] = {}
_rules_version = [0]
_rules_lock = threading.Lock()


def rules_changed() -> None:
    """This process changed a rule: the next evaluation reads them again."""
    with _rules_lock:
        _rules_version[0] += 1


def _all_rules(session: Session) -> list[Rule]:
    """Every enabled rule: one query every few seconds, not one per batch."""
    key = session.get_bind().engine.url.render_as_string(hide_password=True)
    now = time.monotonic()
    with _rules_lock:
        cached = _rules_cache.get(key)
        version = _rules_version[0]
    if cached is not None and cached[0] > now and cached[1] == version:
        return cached[2]
    rules = [
        snapshot(r) for r in session.scalars(select(AlarmRule).where(AlarmRule.enabled.is_(True)))
    ]
    with _rules_lock:
        _rules_cache[key] = (now + RULES_TTL, version, rules)
    return rules


def _load_rules(session: Session, device_ids: list[int], profile_ids: list[int]) -> list[Rule]:
    devices, profiles = set(device_ids), set(profile_ids)
    return [
        r
        for r in _all_rules(session)
        if r.device_id in devices or (r.device_id is None and r.profile_id in profiles)
    ]


def _open_alarms(session: Session, device_ids: list[int]) -> dict[str, Alarm]:
    rows = session.scalars(
        select(Alarm).where(Alarm.device_id.in_(device_ids), Alarm.open_key.is_not(None))
    )
    return {a.open_key: a for a in rows if a.open_key}


def evaluate_readings(
    session: Session,
    profiles: dict[int, tuple[int, dict[str, int]]],
    dev: npt.NDArray[np.int64],
    met: npt.NDArray[np.int64],
    ts: npt.NDArray[np.int64],
    val: npt.NDArray[np.float64],
    prev: dict[tuple[int, int], tuple[int, float]],
    clock: int,
) -> None:
    """Check the stored readings of a batch. `profiles`: device id -> (profile id,
    metric name -> metric id); `prev`: the newest reading before this batch."""
    if dev.size == 0:
        return
    device_ids = sorted(set(dev.tolist()))
    rules = _load_rules(session, device_ids, sorted({profiles[d][0] for d in device_ids}))
    if not rules:
        return
    opened = _open_alarms(session, device_ids)
    now = at_ms(clock)
    for device_id in device_ids:
        profile_id, metric_ids = profiles[device_id]
        mine = dev == device_id
        for rule in effective_rules(rules, device_id, profile_id):
            key = open_key(rule.id, device_id)
            if rule.kind == RuleKind.no_data:
                if key in opened and _has_metric(rule, metric_ids, met[mine]):
                    clear(session, opened.pop(key), now, reason="data arrived")
                continue
            metric_id = metric_ids.get(rule.metric or "")
            if metric_id is None:
                continue
            sel = mine & (met == metric_id)
            if not sel.any():
                continue
            order = np.argsort(ts[sel], kind="stable")
            t, v = ts[sel][order], val[sel][order]
            if rule.kind == RuleKind.threshold:
                breach, calm = _threshold(rule, v)
            else:
                breach, calm, v = _rate(rule, t, v, prev.get((device_id, metric_id)))
            if breach.any():
                last = int(np.flatnonzero(breach)[-1])
                opened[key] = raise_or_bump(
                    session,
                    rule,
                    device_id,
                    float(v[last]),
                    int(breach.sum()),
                    now,
                    opened.get(key),
                )
            if calm and key in opened:
                clear(session, opened.pop(key), now, reason="back to normal")


def _has_metric(rule: Rule, metric_ids: dict[str, int], mets: npt.NDArray[np.int64]) -> bool:
    if rule.metric is None:
        return True
    metric_id = metric_ids.get(rule.metric)
    return metric_id is not None and bool((mets == metric_id).any())


def _threshold(rule: Rule, v: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.bool_], bool]:
    op = rule.op or ">"
    breach = OPS[op](v, rule.value)
    bound = rule.clear_value if rule.clear_value is not None else rule.value
    return breach, bool(CLEAR_OPS[op](v[-1], bound))


def _rate(
    rule: Rule,
    t: npt.NDArray[np.int64],
    v: npt.NDArray[np.float64],
    before: tuple[int, float] | None,
) -> tuple[npt.NDArray[np.bool_], bool, npt.NDArray[np.float64]]:
    """Change per minute between consecutive readings (the previous batch's last included)."""
    if before is not None and before[0] < t[0]:
        t = np.concatenate(([before[0]], t))
        v = np.concatenate(([before[1]], v))
    if t.size < 2:
        return np.zeros(v.size, dtype=bool), False, v
    minutes = np.maximum(np.diff(t), 1) / 60_000
    rate = np.abs(np.diff(v)) / minutes
    limit = rule.value or 0.0
    calm_limit = rule.clear_value if rule.clear_value is not None else limit
    breach = np.concatenate(([False], rate > limit))
    return breach, bool(rate[-1] <= calm_limit), np.concatenate(([0.0], rate))


def _describe(rule: Rule, value: float | None) -> str:
    if rule.kind == RuleKind.threshold:
        return f"{rule.metric} {value:g} {rule.op} {rule.value:g}"
    if rule.kind == RuleKind.rate_of_change:
        return f"{rule.metric} changes {value:g}/min (limit {rule.value:g}/min)"
    what = rule.metric or "any data"
    return f"no {what} for {rule.window_s} s"


def raise_or_bump(
    session: Session,
    rule: Rule,
    device_id: int,
    value: float | None,
    count: int,
    now: datetime,
    existing: Alarm | None = None,
    message: str | None = None,
) -> Alarm:
    """Raise a new alarm, or count the breach on the open one (no second alarm)."""
    key = open_key(rule.id, device_id)
    if existing is None:
        existing = session.scalar(select(Alarm).where(Alarm.open_key == key))
    if existing is not None:
        existing.occurrences += count
        existing.last_value = value
        existing.last_breach_at = now
        return existing
    alarm = Alarm(
        rule_id=rule.id,
        device_id=device_id,
        open_key=key,
        state=AlarmState.raised.value,
        severity=rule.severity,
        metric=rule.metric,
        message=message or _describe(rule, value),
        first_value=value,
        last_value=value,
        raised_at=now,
        last_breach_at=now,
        occurrences=count,
    )
    session.add(alarm)
    session.flush()
    _announce(session, alarm, "sensing.alarm.raised", actor="sensing")
    return alarm


def acknowledge(session: Session, alarm: Alarm, username: str) -> Alarm:
    """Someone is on it. Acknowledging again changes nothing; a cleared alarm stays cleared."""
    if alarm.state != AlarmState.raised.value:
        return alarm
    alarm.state = AlarmState.acknowledged.value
    alarm.acknowledged_at = utcnow()
    alarm.acknowledged_by = username
    session.flush()
    _announce(session, alarm, "sensing.alarm.acknowledged", actor=username)
    return alarm


def clear(
    session: Session, alarm: Alarm, now: datetime, *, reason: str, by: str | None = None
) -> Alarm:
    if alarm.state == AlarmState.cleared.value:
        return alarm
    alarm.state = AlarmState.cleared.value
    alarm.open_key = None
    alarm.cleared_at = now
    alarm.cleared_by = by
    session.flush()
    _announce(session, alarm, "sensing.alarm.cleared", actor=by or "sensing", reason=reason)
    return alarm


def payload(session: Session, alarm: Alarm) -> dict[str, Any]:
    device = session.get(Device, alarm.device_id)
    rule = session.get(AlarmRule, alarm.rule_id)
    org = session.get(Organization, device.organization_id) if device else None
    return {
        "id": alarm.id,
        "state": alarm.state,
        "severity": alarm.severity,
        "rule_id": alarm.rule_id,
        "rule": rule.name if rule else "",
        "kind": rule.kind if rule else "",
        "device": device.code if device else None,
        "device_name": device.name if device else "",
        "organization": org.code if org else None,
        "region": device.region_code if device else None,
        "metric": alarm.metric,
        "message": alarm.message,
        "value": alarm.last_value,
        "occurrences": alarm.occurrences,
        "raised_at": alarm.raised_at.isoformat(),
        "acknowledged_at": alarm.acknowledged_at.isoformat() if alarm.acknowledged_at else None,
        "acknowledged_by": alarm.acknowledged_by,
        "cleared_at": alarm.cleared_at.isoformat() if alarm.cleared_at else None,
    }


def _announce(session: Session, alarm: Alarm, topic: str, actor: str, **extra: Any) -> None:
    body = payload(session, alarm) | extra
    emit(session, topic, body, actor=actor)
    device = session.get(Device, alarm.device_id)
    webhooks.enqueue(session, topic, body, device.organization_id if device else None)


# -- the no-data sweep ----------------------------------------------------------------------


def sweep_no_data(session: Session, now: datetime | None = None) -> int:
    """Raise a no-data alarm on every device silent for longer than its rule allows;
    the number raised. Devices in maintenance are left alone."""
    moment = now or utcnow()
    rules = [r for r in _all_rules(session) if r.kind == RuleKind.no_data]
    raised = 0
    for rule in rules:
        cutoff = moment - timedelta(seconds=rule.window_s or 0)
        for device_id, last in _silent_devices(session, rule, rules, cutoff):
            since = f"last data {last.isoformat()}" if last else "never reported"
            message = f"{_describe(rule, None)} ({since})"
            raise_or_bump(session, rule, device_id, None, 1, moment, message=message)
            raised += 1
    return raised


def _silent_devices(
    session: Session, rule: Rule, rules: list[Rule], cutoff: datetime
) -> list[tuple[int, datetime | None]]:
    stmt = select(Device.id, Device.profile_id, Device.last_seen_at, Device.created_at).where(
        Device.mode != DeviceMode.maintenance.value
    )
    if rule.device_id is not None:
        stmt = stmt.where(Device.id == rule.device_id)
    else:
        stmt = stmt.where(Device.profile_id == rule.profile_id)
    open_keys = select(Alarm.device_id).where(Alarm.rule_id == rule.id, Alarm.open_key.is_not(None))
    stmt = stmt.where(Device.id.not_in(open_keys))
    if rule.metric is None:
        stmt = stmt.where(
            or_(
                and_(Device.last_seen_at.is_(None), Device.created_at < cutoff),
                Device.last_seen_at < cutoff,
            )
        )
        candidates = [(r.id, r.profile_id, r.last_seen_at) for r in session.execute(stmt)]
    else:
        latest = (
            select(func.max(LatestValue.ts_ms))
            .join(ProfileMetric, ProfileMetric.id == LatestValue.metric_id)
            .where(LatestValue.device_id == Device.id, ProfileMetric.name == rule.metric)
            .scalar_subquery()
        )
        cutoff_ms = int(cutoff.timestamp() * 1000)
        stmt = stmt.add_columns(latest.label("last_ms")).where(
            or_(and_(latest.is_(None), Device.created_at < cutoff), latest < cutoff_ms)
        )
        candidates = [
            (r.id, r.profile_id, at_ms(r.last_ms) if r.last_ms is not None else None)
            for r in session.execute(stmt)
        ]
    # A profile rule does not apply where the device has its own rule of the same kind.
    return [
        (device_id, last)
        for device_id, profile_id, last in candidates
        if rule in effective_rules(rules, device_id, profile_id)
    ]
