"""Live simulated devices for the Linyi demo: what each kind reports, as numpy functions of
time (so a restart continues the same day), with daily rhythms, occasional threshold
breaches, broken readings and faults.

- air-quality stations: PM2.5/PM10/NO₂ peak in the rush hours, O₃ in the afternoon; a
  short pollution episode every few hours (PM2.5 > 150) and now and then a negative reading
- water-level gauges: a slow daily swell, rain showers, a flood surge twice a day
- traffic detectors: two rush-hour peaks of flow with falling speed
- smart meters: working-hours load, voltage sags, a current-transformer fault report
- cameras: report every 30 s, but drop off the network for a quarter of an hour at times
- buses: GNSS positions moving along routes between district centres
"""

from __future__ import annotations

import json
import logging
import math
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction
from cityhub.core.events import EventBus, attach
from cityhub.directory.models import Organization
from cityhub.sensing import rollups, store
from cityhub.sensing.ingest import Message, ingest, now_ms
from cityhub.sensing.models import Device, DeviceProfile, LatestValue, ProfileMetric
from cityhub.settings import Settings

log = logging.getLogger("cityhub.sensing.simulate")

Arr = npt.NDArray[np.float64]
MIN = 60_000
HOUR = 3_600_000
LOCAL_OFFSET_H = 8.0  # the city's clock: China Standard Time


@dataclass(frozen=True)
class SimDevice:
    code: str
    org_code: str
    model: str  # air, water, traffic, meter, camera, bus
    interval_s: int
    lon: float
    lat: float
    route: tuple[tuple[float, float], ...] = ()  # WGS-84 waypoints of a bus

    @property
    def phase(self) -> float:
        """A per-device offset in [0, 1) so devices do not all breach at once."""
        return (zlib.crc32(self.code.encode()) % 10_000) / 10_000


def _hour(t: npt.NDArray[np.int64]) -> Arr:
    result: Arr = ((t / HOUR) + LOCAL_OFFSET_H) % 24
    return result


def _peak(hour: Arr, centre: float, width: float) -> Arr:
    result: Arr = np.exp(-0.5 * ((hour - centre) / width) ** 2)
    return result


def _noise(dev: SimDevice, t: npt.NDArray[np.int64], salt: int, scale: float) -> Arr:
    """Deterministic noise per device and minute."""
    x = (t // MIN).astype(np.float64) * 12.9898 + salt * 78.233 + dev.phase * 437.58
    result: Arr = (np.modf(np.sin(x) * 43758.5453)[0] * 2) * scale
    return result


def _episode(
    dev: SimDevice, t: npt.NDArray[np.int64], every_h: float, lasting_min: float
) -> npt.NDArray[np.bool_]:
    minutes = t / MIN + dev.phase * every_h * 60
    result: npt.NDArray[np.bool_] = (minutes % (every_h * 60)) < lasting_min
    return result


def air(dev: SimDevice, t: npt.NDArray[np.int64]) -> dict[str, Arr]:
    h = _hour(t)
    rush = _peak(h, 8, 1.5) + _peak(h, 19, 2.0)
    pm25 = 30 + 35 * rush + 15 * _peak(h, 2, 3) + _noise(dev, t, 1, 6)
    pm25 = np.where(_episode(dev, t, 5.0, 12), pm25 * 4.2 + 40, pm25)
    broken = _episode(dev, t, 7.0, 1)  # a glitching sensor: a physically impossible value
    pm25 = np.where(broken, -12.0, np.maximum(pm25, 1))
    return {
        "pm25": pm25,
        "pm10": np.maximum(pm25 * 1.7 + _noise(dev, t, 2, 10), 1),
        "no2": np.maximum(18 + 28 * rush + _noise(dev, t, 3, 4), 1),
        "o3": np.maximum(35 + 90 * _peak(h, 15, 2.5) + _noise(dev, t, 4, 8), 1),
    }


def water(dev: SimDevice, t: npt.NDArray[np.int64]) -> dict[str, Arr]:
    h = _hour(t)
    rain = np.where(_episode(dev, t, 9.0, 50), 6 + 4 * np.abs(_noise(dev, t, 5, 1)), 0.0)
    level = 2.2 + 0.25 * np.sin(2 * math.pi * (h / 24 + dev.phase)) + rain * 0.05
    surge = _episode(dev, t, 12.0, 25)
    level = np.where(surge, 4.9 + 0.1 * _noise(dev, t, 6, 1), level + _noise(dev, t, 7, 0.02))
    return {"level_m": level, "rain_mm": rain}


def traffic(dev: SimDevice, t: npt.NDArray[np.int64]) -> dict[str, Arr]:
    h = _hour(t)
    congestion = np.clip(0.9 * _peak(h, 8, 1.0) + 0.85 * _peak(h, 18, 1.3), 0, 1)
    base = 150 + 650 * _peak(h, 13, 5)
    flow = base + 1500 * congestion + _noise(dev, t, 8, 60)
    return {
        "flow_vph": np.maximum(flow, 0),
        "speed_kmh": np.clip(58 - 46 * congestion + _noise(dev, t, 9, 3), 3, 120),
        "occupancy_pct": np.clip(6 + 70 * congestion + _noise(dev, t, 10, 3), 0, 100),
    }


def meter(dev: SimDevice, t: npt.NDArray[np.int64]) -> dict[str, Arr]:
    h = _hour(t)
    working = _peak(h, 11, 2.5) + 0.8 * _peak(h, 15.5, 2)
    power = 25 + 90 * working + 20 * _peak(h, 20, 1.5) + _noise(dev, t, 11, 4)
    voltage = 221 + _noise(dev, t, 12, 2.5)
    voltage = np.where(_episode(dev, t, 6.0, 6), 186 + _noise(dev, t, 13, 3), voltage)
    energy = 120_000 + 50 * (t / HOUR - 440_000) + dev.phase * 1000  # ~50 kWh an hour
    return {"power_kw": np.maximum(power, 0), "voltage_v": voltage, "energy_kwh": energy}


def camera(dev: SimDevice, t: npt.NDArray[np.int64]) -> dict[str, Arr]:
    return {
        "online": np.ones(t.shape),
        "fps": 25 + np.round(_noise(dev, t, 14, 0.6)),
        "bitrate_kbps": 4096 + _noise(dev, t, 15, 300),
    }


def camera_silent(dev: SimDevice, t: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    return _episode(dev, t, 8.0, 15)


def bus(dev: SimDevice, t: npt.NDArray[np.int64]) -> dict[str, Arr]:
    """Back and forth along the route at ~22 km/h with stops, as WGS-84 fixes."""
    pts = np.asarray(dev.route or ((dev.lon, dev.lat), (dev.lon + 0.02, dev.lat)), dtype=np.float64)
    seg = (
        np.hypot(np.diff(pts[:, 0]) * math.cos(math.radians(pts[0, 1])), np.diff(pts[:, 1]))
        * 111_320
    )
    cum = np.concatenate(([0.0], np.cumsum(seg)))
    length = cum[-1]
    metres = (t / 1000 * 6.1 + dev.phase * 2 * length) % (2 * length)  # 6.1 m/s ≈ 22 km/h
    forward = metres <= length
    along = np.where(forward, metres, 2 * length - metres)
    i = np.clip(np.searchsorted(cum, along, side="right") - 1, 0, len(seg) - 1)
    frac = (along - cum[i]) / np.maximum(seg[i], 1e-9)
    lon = pts[i, 0] + (pts[i + 1, 0] - pts[i, 0]) * frac
    lat = pts[i, 1] + (pts[i + 1, 1] - pts[i, 1]) * frac
    dx, dy = pts[i + 1, 0] - pts[i, 0], pts[i + 1, 1] - pts[i, 1]
    heading = (np.degrees(np.arctan2(dx, dy)) + np.where(forward, 0, 180)) % 360
    stopped = ((t // 1000) % 180) < 25  # a stop every three minutes
    speed = np.where(stopped, 0.0, 22 + _noise(dev, t, 16, 6))
    speed = np.where(_episode(dev, t, 10.0, 2), 78.0, speed)  # a driver in a hurry
    return {"lon": lon, "lat": lat, "speed_kmh": np.maximum(speed, 0), "heading": heading}


MODELS: dict[str, Callable[[SimDevice, npt.NDArray[np.int64]], dict[str, Arr]]] = {
    "air": air,
    "water": water,
    "traffic": traffic,
    "meter": meter,
    "camera": camera,
    "bus": bus,
}


def readings(dev: SimDevice, t: npt.NDArray[np.int64]) -> dict[str, Arr]:
    return MODELS[dev.model](dev, t)


def status_report(dev: SimDevice, t_ms: int) -> dict[str, Any] | None:
    """Smart meters report a current-transformer fault for a while, twice a day."""
    if dev.model != "meter":
        return None
    faulty = bool(_episode(dev, np.array([t_ms]), 11.0, 10)[0])
    return (
        {"state": "fault", "code": "E-CT", "message": "电流互感器异常"}
        if faulty
        else {"state": "ok"}
    )


# -- the running simulator ------------------------------------------------------------------


def load(factory: sessionmaker[Session], settings: Settings) -> list[SimDevice]:
    """The simulated devices registered in the database (by the demo)."""
    from cityhub.sensing.demo import bus_routes

    with factory() as session:
        rows = session.execute(
            select(
                Device.code,
                Organization.code,
                Device.simulator,
                DeviceProfile.expected_interval_s,
                Device.lon,
                Device.lat,
            )
            .join(Organization, Organization.id == Device.organization_id)
            .join(DeviceProfile, DeviceProfile.id == Device.profile_id)
            .where(Device.simulator.is_not(None))
            .order_by(Device.code)
        ).all()
    paths = bus_routes(settings) if rows else {}
    out = []
    for code, org, sim, interval, lon, lat in rows:
        model, _, route = str(sim).partition(":")
        if model not in MODELS:
            continue
        out.append(
            SimDevice(code, org, model, interval, lon or 0.0, lat or 0.0, paths.get(route, ()))
        )
    return out


class Simulator:
    """Every `tick` seconds, sends what each device would have sent since the last tick."""

    def __init__(
        self,
        settings: Settings,
        factory: sessionmaker[Session],
        devices: list[SimDevice],
        *,
        bus: EventBus | None = None,
        tick_s: float = 5.0,
        publish: Callable[[str, str, str, bytes], None] | None = None,
        close: Callable[[], None] | None = None,
    ) -> None:
        self.settings, self.factory, self.devices, self.bus = settings, factory, devices, bus
        self.tick_s = tick_s
        self.publish = publish
        self.close = close
        self._last = now_ms()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sent = 0

    def messages(self, start_ms: int, end_ms: int) -> list[Message]:
        """What the devices send in (start, end]: due reports, camera outages honoured."""
        out: list[Message] = []
        for dev in self.devices:
            step = dev.interval_s * 1000
            offset = int(dev.phase * step)
            first = ((start_ms - offset) // step + 1) * step + offset
            times = np.arange(first, end_ms + 1, step, dtype=np.int64)
            if times.size == 0:
                continue
            if dev.model == "camera":
                times = times[~camera_silent(dev, times)]
            values = readings(dev, times)
            for k, t in enumerate(times.tolist()):
                point = {"ts": t, "values": {m: round(float(v[k]), 4) for m, v in values.items()}}
                out.append(
                    Message(dev.code, json.dumps(point), "sim", "telemetry", dev.org_code, t)
                )
            report = status_report(dev, end_ms)
            if report is not None and times.size:
                out.append(
                    Message(dev.code, json.dumps(report), "sim", "status", dev.org_code, end_ms)
                )
        return out

    def step(self, now: int | None = None) -> int:
        end = now if now is not None else now_ms()
        batch = self.messages(self._last, end)
        self._last = end
        if not batch:
            return 0
        if self.publish is not None:
            for m in batch:
                self.publish(m.org_code or "", m.device_code, m.topic_kind, str(m.payload).encode())
        else:
            with transaction(self.factory) as session:
                if self.bus is not None:
                    attach(session, self.bus)
                ingest(session, self.settings, batch, now=end)
        self.sent += len(batch)
        return len(batch)

    def backfill(self, hours: float = 6.0, step_s: int = 300, end: int | None = None) -> int:
        """History for the charts, written straight to storage (no alarms, no limits)."""
        stop = end if end is not None else now_ms()
        times = np.arange(stop - int(hours * HOUR), stop, step_s * 1000, dtype=np.int64)
        times -= times % (step_s * 1000)
        with transaction(self.factory) as session:
            ids = dict(
                session.execute(
                    select(Device.code, Device.id).where(
                        Device.code.in_([d.code for d in self.devices])
                    )
                ).all()
            )
            metric_ids = {
                (row.code, row.name): (row.id, row.min_value, row.max_value)
                for row in session.execute(
                    select(
                        Device.code,
                        ProfileMetric.name,
                        ProfileMetric.id,
                        ProfileMetric.min_value,
                        ProfileMetric.max_value,
                    )
                    .join(ProfileMetric, ProfileMetric.profile_id == Device.profile_id)
                    .where(Device.code.in_(list(ids)))
                )
            }
            cols: list[list[Any]] = [[], [], [], []]
            for dev in self.devices:
                t = times[~camera_silent(dev, times)] if dev.model == "camera" else times
                for metric, values in readings(dev, t).items():
                    metric_id, lo, hi = metric_ids[(dev.code, metric)]
                    ok = np.isfinite(values) & (values >= lo) & (values <= hi)
                    cols[0].append(np.full(int(ok.sum()), ids[dev.code], dtype=np.int64))
                    cols[1].append(np.full(int(ok.sum()), metric_id, dtype=np.int64))
                    cols[2].append(t[ok])
                    cols[3].append(values[ok])
            if not cols[0]:
                return 0
            dev_a, met_a, ts_a, val_a = (np.concatenate(c) for c in cols)
            from cityhub.sensing import partitions

            partitions.ensure(session.get_bind(), partitions.RAW, int(ts_a.min()), int(ts_a.max()))  # type: ignore[arg-type]
            store.insert_points(session, dev_a, met_a, ts_a, val_a.astype(np.float64))
            store.mark_dirty(session, dev_a, ts_a)
            store.write_latest(session, dev_a, met_a, ts_a, val_a.astype(np.float64))
        rollups.refresh_all(self.factory)
        self._last = stop
        return int(dev_a.size)

    def needs_history(self) -> bool:
        with self.factory() as session:
            ids = select(Device.id).where(Device.simulator.is_not(None))
            count = session.scalar(
                select(func.count()).select_from(LatestValue).where(LatestValue.device_id.in_(ids))
            )
        return not count

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sensing-simulator", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            if self.needs_history():
                self.backfill()
        except Exception:
            log.exception("simulator history could not be written")
        self._last = now_ms()
        while not self._stop.wait(self.tick_s):
            try:
                self.step()
            except Exception:  # a bad moment of the database must not end the demo
                log.exception("simulator step failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
        if self.close is not None:
            self.close()


def mqtt_publisher(
    settings: Settings,
) -> tuple[Callable[[str, str, str, bytes], None], Callable[[], None]]:
    """(publish, close) over CITYHUB_MQTT_URL, QoS 1, as the devices themselves would."""
    from cityhub.sensing.mqtt import make_client, parse_url, topic

    broker = parse_url(settings.mqtt_url)
    client = make_client(broker, f"cityhub-sim-{now_ms() % 100000}")
    client.max_inflight_messages_set(200)
    client.connect_async(broker.host, broker.port)
    client.loop_start()

    def publish(org: str, device: str, kind: str, body: bytes) -> None:
        client.publish(topic(org, device, kind), body, qos=1)

    def close() -> None:
        client.disconnect()
        client.loop_stop()

    return publish, close


def start_simulators(app: Any) -> Simulator | None:
    """The demo's hook (called from the app's lifespan in demo mode): run the simulated
    devices the demo registered, over MQTT when a broker is configured, else in-process."""
    state = app.state
    settings: Settings = state.settings
    devices = load(state.sessions, settings)
    if not devices:
        return None
    publish = close = None
    if settings.mqtt_url:
        publish, close = mqtt_publisher(settings)
    simulator = Simulator(
        settings, state.sessions, devices, bus=state.bus, publish=publish, close=close
    )
    state.sensing.start_simulator(simulator)
    log.info("simulated devices running", extra={"devices": len(devices), "mqtt": bool(publish)})
    return simulator
