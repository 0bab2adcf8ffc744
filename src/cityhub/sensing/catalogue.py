"""The built-in device profiles: what each common type of city device reports.

Declarative frozen descriptions (no logic); `profiles.ensure_builtin` writes them once.
Ranges are physical validity limits (a reading outside is a broken sensor or a forged
message), not alarm thresholds: those are alarm rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from cityhub.sensing.models import DeviceKind


@dataclass(frozen=True)
class MetricSpec:
    name: str
    name_zh: str
    name_en: str
    unit: str
    min_value: float
    max_value: float


@dataclass(frozen=True)
class ProfileSpec:
    code: str
    name_zh: str
    name_en: str
    kind: DeviceKind
    expected_interval_s: int
    metrics: tuple[MetricSpec, ...]
    retention_days: int = 90
    rollup_1m_days: int = 400
    rollup_1h_days: int = 3650
    offline_factor: int = 3  # missed intervals before a device counts as offline

    @property
    def offline_after_s(self) -> int:
        return self.expected_interval_s * self.offline_factor

    @property
    def max_points_per_minute(self) -> int:
        return flood_limit(self.expected_interval_s, len(self.metrics))


FLOOD_FLOOR = 2000  # a device uploading hours of buffered readings is not a flood


def flood_limit(interval_s: int, metrics: int) -> int:
    """Readings a device may send per minute: ten times its expected rate, and never less
    than FLOOD_FLOOR, so catching up after an outage passes while a runaway loop does not."""
    per_minute = max(1.0, 60 / interval_s)
    return int(max(FLOOD_FLOOR, per_minute * 10 * metrics))


AIR_QUALITY = ProfileSpec(
    "air-quality-station",
    "空气质量监测站",
    "Air-quality station",
    DeviceKind.sensor,
    60,
    (
        MetricSpec("pm25", "PM2.5", "PM2.5", "μg/m³", 0, 1000),
        MetricSpec("pm10", "PM10", "PM10", "μg/m³", 0, 2000),
        MetricSpec("no2", "二氧化氮", "NO₂", "μg/m³", 0, 2000),
        MetricSpec("o3", "臭氧", "O₃", "μg/m³", 0, 1200),
    ),
)

WATER_LEVEL = ProfileSpec(
    "water-level-gauge",
    "河道水位计",
    "River water-level gauge",
    DeviceKind.sensor,
    60,
    (
        MetricSpec("level_m", "水位", "Water level", "m", 0, 30),
        MetricSpec("rain_mm", "小时雨量", "Hourly rainfall", "mm", 0, 300),
    ),
)

TRAFFIC = ProfileSpec(
    "traffic-detector",
    "交通流量检测器",
    "Traffic detector",
    DeviceKind.collector,
    60,
    (
        MetricSpec("flow_vph", "车流量", "Traffic flow", "veh/h", 0, 10000),
        MetricSpec("speed_kmh", "平均车速", "Mean speed", "km/h", 0, 200),
        MetricSpec("occupancy_pct", "占有率", "Occupancy", "%", 0, 100),
    ),
)

SMART_METER = ProfileSpec(
    "smart-meter",
    "智能电表",
    "Smart electricity meter",
    DeviceKind.terminal,
    60,
    (
        MetricSpec("power_kw", "有功功率", "Active power", "kW", 0, 5000),
        MetricSpec("voltage_v", "电压", "Voltage", "V", 0, 500),
        MetricSpec("energy_kwh", "累计电量", "Energy", "kWh", 0, 1e9),
    ),
)

CAMERA = ProfileSpec(
    "camera",
    "视频监控摄像头",
    "Surveillance camera",
    DeviceKind.camera,
    30,
    (
        MetricSpec("online", "在线", "Online", "", 0, 1),
        MetricSpec("fps", "帧率", "Frame rate", "fps", 0, 120),
        MetricSpec("bitrate_kbps", "码率", "Bit rate", "kbit/s", 0, 100000),
    ),
)

BUS_GNSS = ProfileSpec(
    "bus-gnss",
    "公交车载定位终端",
    "Bus GNSS locator",
    DeviceKind.gnss,
    10,
    (
        MetricSpec("lon", "经度", "Longitude", "°", -180, 180),
        MetricSpec("lat", "纬度", "Latitude", "°", -90, 90),
        MetricSpec("speed_kmh", "速度", "Speed", "km/h", 0, 200),
        MetricSpec("heading", "方向", "Heading", "°", 0, 360),
    ),
    retention_days=30,
)

BUILTIN: tuple[ProfileSpec, ...] = (
    AIR_QUALITY,
    WATER_LEVEL,
    TRAFFIC,
    SMART_METER,
    CAMERA,
    BUS_GNSS,
)
