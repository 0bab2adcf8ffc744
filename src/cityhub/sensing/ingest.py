"""The ingest pipeline shared by MQTT, HTTP and the simulators.

A batch of messages goes through in one transaction: read, check against each device's
profile (vectorized over all readings), refuse with a reason what fails, store the rest,
update the devices and evaluate alarm rules. The caller commits; only then does the MQTT
ingester acknowledge the messages to the broker, so nothing it acknowledged is lost.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from cityhub.sensing import alarms, devices_state, partitions, store
from cityhub.sensing.payloads import MessageRefused, Readings, read_status, read_telemetry
from cityhub.sensing.reasons import Reason
from cityhub.sensing.registry import DeviceInfo, cache_for
from cityhub.sensing.store import RejectTally
from cityhub.settings import Settings

Channel = Literal["mqtt", "http", "sim"]
MAX_ERRORS = 100  # refusals listed back to an HTTP client (all are counted)


@dataclass
class Message:
    """One message from a device: its telemetry or its own status report."""

    device_code: str
    payload: bytes | str | Any
    channel: Channel = "http"
    topic_kind: Literal["telemetry", "status"] = "telemetry"
    org_code: str | None = None  # the organization its MQTT topic names
    received_ms: int = 0


@dataclass
class PointError:
    index: int  # the point of a batch
    metric: str
    reason: str
    detail: str


@dataclass
class Outcome:
    """What became of one message."""

    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    errors: list[PointError] = field(default_factory=list)
    refused: str | None = None  # reason when the whole message was refused
    detail: str = ""

    def refuse(self, reason: Reason, detail: str) -> None:
        self.refused, self.detail = reason.value, detail
        self.rejected[reason.value] += 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "rejected": sum(self.rejected.values()),
            "reasons": dict(self.rejected),
            "errors": [e.__dict__ for e in self.errors],
        }


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _excerpt(payload: Any) -> str:
    if isinstance(payload, bytes):
        return payload[:200].decode("utf-8", "replace")
    return str(payload)[:200]


class _Batch:
    """Column buffers of all readings of a batch, with where each came from."""

    def __init__(self) -> None:
        self.dev: list[int] = []
        self.met: list[int] = []
        self.ts: list[int] = []
        self.val: list[float] = []
        self.lo: list[float] = []
        self.hi: list[float] = []
        self.msg: list[int] = []
        self.point: list[int] = []
        self.names: list[str] = []


def ingest(
    session: Session, settings: Settings, messages: list[Message], *, now: int | None = None
) -> list[Outcome]:
    """Take in a batch of messages; one Outcome per message, in order."""
    clock = now if now is not None else now_ms()
    cache = cache_for(session.get_bind())  # type: ignore[arg-type]
    known = cache.get_many(session, {m.device_code for m in messages})
    outcomes = [Outcome() for _ in messages]
    tallies: list[RejectTally] = []
    batch = _Batch()
    statuses: list[tuple[DeviceInfo, Any, int]] = []
    max_points = settings.sensing_max_batch_points

    for i, msg in enumerate(messages):
        out = outcomes[i]
        received = msg.received_ms or clock
        device = known.get(msg.device_code)
        ref = msg.device_code if device else f"{msg.org_code or '?'}/{msg.device_code}"
        if device is None or (msg.org_code is not None and msg.org_code != device.org_code):
            why = (
                "is not registered" if device is None else f"is not in organization {msg.org_code}"
            )
            out.refuse(Reason.unknown_device, f"device {msg.device_code!r} {why}")
            tallies.append(
                RejectTally(ref, None, Reason.unknown_device, 1, out.detail, _excerpt(msg.payload))
            )
            continue
        try:
            if msg.topic_kind == "status":
                statuses.append((device, read_status(msg.payload), received))
                out.accepted = 1
                continue
            readings = read_telemetry(msg.payload, received, max_points)
        except MessageRefused as exc:
            out.refuse(exc.reason, exc.detail)
            tallies.append(
                RejectTally(ref, device.id, exc.reason, 1, exc.detail, _excerpt(msg.payload))
            )
            continue
        _collect(batch, i, device, readings, out, tallies)

    kept = _check_and_store(session, settings, batch, known, outcomes, tallies, clock)
    state = devices_state.DeviceUpdates(session, settings, clock)
    for device, report, received in statuses:
        state.report(device, report, received)
    if kept is not None:
        dev, met, ts, val, prev = kept
        by_id = {d.id: d for d in known.values()}
        state.seen(dev, met, ts, val, by_id)
        profiles = {
            d.id: (d.profile.id, {name: m.id for name, m in d.profile.metrics.items()})
            for d in by_id.values()
        }
        alarms.evaluate_readings(session, profiles, dev, met, ts, val, prev, clock)
    state.flush()
    channel = messages[0].channel if messages else "http"
    store.record_rejections(session, tallies, "sim" if channel == "sim" else channel)
    return outcomes


def _collect(
    batch: _Batch,
    msg_index: int,
    device: DeviceInfo,
    readings: Readings,
    out: Outcome,
    tallies: list[RejectTally],
) -> None:
    """Append a message's readings to the batch; refuse metrics its profile lacks."""
    for index, metric, reason, detail in readings.refused:
        _note(out, tallies, device, reason, index, metric, detail)
    table = device.profile.metrics
    names, stamps, values, points = (
        readings.metrics,
        readings.ts_ms,
        readings.values,
        readings.point_index,
    )
    # Per metric name, not per reading: a batch repeats a few names many times.
    if not set(names) <= table.keys():
        keep = []
        for k, name in enumerate(names):
            if name in table:
                keep.append(k)
            else:
                why = f"profile {device.profile.code} has no metric {name[:40]!r}"
                _note(out, tallies, device, Reason.unknown_metric, points[k], name, why)
        names = [names[k] for k in keep]
        stamps = [stamps[k] for k in keep]
        values = [values[k] for k in keep]
        points = [points[k] for k in keep]
    n = len(names)
    specs = list(map(table.__getitem__, names))
    batch.dev.extend([device.id] * n)
    batch.met.extend([info.id for info in specs])
    batch.lo.extend([info.lo for info in specs])
    batch.hi.extend([info.hi for info in specs])
    batch.ts.extend(stamps)
    batch.val.extend(values)
    batch.msg.extend([msg_index] * n)
    batch.point.extend(points)
    batch.names.extend(names)


def _note(
    out: Outcome,
    tallies: list[RejectTally],
    device: DeviceInfo,
    reason: Reason,
    index: int,
    metric: str,
    detail: str,
    count: int = 1,
) -> None:
    out.rejected[reason.value] += count
    if len(out.errors) < MAX_ERRORS:
        out.errors.append(PointError(index, metric, reason.value, detail))
    tallies.append(RejectTally(device.code, device.id, reason, count, detail))


Arrays = tuple[
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
    npt.NDArray[np.float64],
    dict[tuple[int, int], tuple[int, float]],
]


def _check_and_store(
    session: Session,
    settings: Settings,
    b: _Batch,
    known: dict[str, DeviceInfo],
    outcomes: list[Outcome],
    tallies: list[RejectTally],
    clock: int,
) -> Arrays | None:
    if not b.dev:
        return None
    by_id = {d.id: d for d in known.values()}
    dev = np.asarray(b.dev, dtype=np.int64)
    met = np.asarray(b.met, dtype=np.int64)
    ts = np.asarray(b.ts, dtype=np.int64)
    val = np.asarray(b.val, dtype=np.float64)
    reason = np.zeros(dev.size, dtype=np.int8)  # index into CHECKS, 0 = fine
    lo, hi = np.asarray(b.lo), np.asarray(b.hi)
    oldest = clock - settings.sensing_max_past_hours * 3_600_000
    newest = clock + settings.sensing_max_future_seconds * 1000
    reason[(val < lo) | (val > hi)] = 1
    reason[(reason == 0) & (ts > newest)] = 2
    reason[(reason == 0) & (ts < oldest)] = 3
    ok = np.flatnonzero(reason == 0)
    # The same device, metric and time twice in one batch: the first one counts.
    if ok.size > 1:
        order = ok[np.lexsort((ts[ok], met[ok], dev[ok]))]
        same = (
            (dev[order][1:] == dev[order][:-1])
            & (met[order][1:] == met[order][:-1])
            & (ts[order][1:] == ts[order][:-1])
        )
        reason[order[1:][same]] = 4
        ok = np.flatnonzero(reason == 0)
    ok = _rate_limit(session, dev, ok, reason, by_id, clock)

    for code in (1, 2, 3, 4, 5):
        for j in np.flatnonzero(reason == code).tolist():
            out = outcomes[b.msg[j]]
            info = by_id[b.dev[j]]
            _note(
                out, tallies, info, CHECKS[code], b.point[j], b.names[j], _why(code, b, j, settings)
            )

    d, m, t, v = dev[ok], met[ok], ts[ok], val[ok]
    if d.size:
        partitions.ensure(session.get_bind(), partitions.RAW, int(t.min()), int(t.max()))  # type: ignore[arg-type]
    prev = store.read_latest(session, set(d.tolist()))
    appending = store.appends_only(d, m, t, prev)
    fresh = store.insert_points(session, d, m, t, v, appending=appending)
    window = clock - clock % store.MINUTE_MS
    store.add_rates(session, Counter(d.tolist()), window)
    store.mark_dirty(session, d, t)
    store.write_latest(session, d, m, t, v)
    _count_duplicates(b, ok, fresh, outcomes, tallies, by_id)
    return d, m, t, v, prev


CHECKS = {
    1: Reason.out_of_range,
    2: Reason.future_timestamp,
    3: Reason.stale_timestamp,
    4: Reason.duplicate,
    5: Reason.rate_limited,
}


def _why(code: int, b: _Batch, j: int, settings: Settings) -> str:
    name, value = b.names[j], b.val[j]
    if code == 1:
        return f"{name}={value:g} is outside the valid range [{b.lo[j]:g}, {b.hi[j]:g}]"
    if code == 2:
        return f"{name} is stamped more than {settings.sensing_max_future_seconds} s ahead"
    if code == 3:
        return f"{name} is older than {settings.sensing_max_past_hours} h"
    if code == 4:
        return f"{name} appears twice at the same time in this message batch"
    return "more readings per minute than the device's profile allows"


def _rate_limit(
    session: Session,
    dev: npt.NDArray[np.int64],
    ok: npt.NDArray[np.intp],
    reason: npt.NDArray[np.int8],
    by_id: dict[int, DeviceInfo],
    clock: int,
) -> npt.NDArray[np.intp]:
    """Refuse a device's readings beyond its profile's per-minute allowance."""
    if ok.size == 0:
        return ok
    window = clock - clock % store.MINUTE_MS
    ids, counts = np.unique(dev[ok], return_counts=True)
    used = store.read_rates(session, ids.tolist(), window)
    over = False
    allowance = {}
    for device_id, n in zip(ids.tolist(), counts.tolist(), strict=True):
        room = by_id[device_id].profile.max_points_per_minute - used.get(device_id, 0)
        allowance[device_id] = room
        over = over or n > room
    if not over:
        return ok
    seen: Counter[int] = Counter()
    for j in ok.tolist():
        device_id = int(dev[j])
        seen[device_id] += 1
        if seen[device_id] > allowance[device_id]:
            reason[j] = 5
    return np.flatnonzero(reason == 0)


def _count_duplicates(
    b: _Batch,
    ok: npt.NDArray[np.intp],
    fresh: dict[int, int],
    outcomes: list[Outcome],
    tallies: list[RejectTally],
    by_id: dict[int, DeviceInfo],
) -> None:
    """Readings that were stored before (a replay or a redelivery) count as duplicates."""
    if ok.size == 0:
        return
    dev = np.asarray(b.dev, dtype=np.int64)[ok]
    msg = np.asarray(b.msg, dtype=np.int64)[ok]
    ids, candidates = np.unique(dev, return_counts=True)
    dupes = {
        int(d): int(c) - fresh.get(int(d), 0)
        for d, c in zip(ids, candidates, strict=True)
        if int(c) > fresh.get(int(d), 0)
    }
    # Per message and device, in message order: duplicates are charged to the earliest.
    key = msg * (1 << 32) + dev
    pairs, counts = np.unique(key, return_counts=True)
    for pair, here in zip(pairs.tolist(), counts.tolist(), strict=True):
        msg_index, device_id = divmod(pair, 1 << 32)
        taken = min(here, dupes.get(device_id, 0))
        out = outcomes[msg_index]
        out.accepted += here - taken
        if taken:
            dupes[device_id] -= taken
            out.rejected[Reason.duplicate.value] += taken
            if len(out.errors) < MAX_ERRORS:
                detail = f"{taken} reading(s) already stored"
                out.errors.append(PointError(-1, "", Reason.duplicate.value, detail))
    for device_id, count in Counter(
        {int(d): int(c) - fresh.get(int(d), 0) for d, c in zip(ids, candidates, strict=True)}
    ).items():
        if count > 0:
            info = by_id[device_id]
            detail = f"{count} reading(s) were already stored (duplicate or replayed message)"
            tallies.append(RejectTally(info.code, info.id, Reason.duplicate, count, detail))
