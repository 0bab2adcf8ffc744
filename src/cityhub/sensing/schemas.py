"""Pydantic shapes of the sensing API."""

from __future__ import annotations

from datetime import date
from datetime import datetime as _datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cityhub.core.times import UtcDatetime
from cityhub.sensing.models import (
    AlarmState,
    DeviceKind,
    DeviceMode,
    DeviceStatus,
    RuleKind,
    Severity,
)

# Codes appear in MQTT topics: no '/', '+', '#' or spaces.
DeviceCode = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$",
        description="Stable device code, unique in the city; used in MQTT topics",
        examples=["AQ-LS-001"],
    ),
]
ProfileCode = Annotated[
    str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$", examples=["air-quality-station"])
]
Crs = Literal["wgs84", "gcj02"]


# -- profiles -------------------------------------------------------------------------------


class MetricSpecIn(BaseModel):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$", examples=["pm25"])
    name_zh: str = Field(default="", max_length=64)
    name_en: str = Field(default="", max_length=64)
    unit: str = Field(default="", max_length=32, examples=["μg/m³"])
    min_value: float = Field(description="Lowest physically valid value")
    max_value: float = Field(description="Highest physically valid value")

    @model_validator(mode="after")
    def _range(self) -> Self:
        if self.min_value >= self.max_value:
            raise ValueError(f"metric {self.name}: min_value must be below max_value")
        return self


class MetricPublic(MetricSpecIn):
    model_config = ConfigDict(from_attributes=True)


class ProfileCreate(BaseModel):
    code: ProfileCode
    name_zh: str = Field(min_length=1, max_length=128)
    name_en: str = Field(default="", max_length=128)
    kind: DeviceKind
    expected_interval_s: int = Field(ge=1, le=86400, description="Expected reporting interval")
    offline_after_s: int | None = Field(
        default=None,
        ge=1,
        le=30 * 86400,
        description="Silence after which a device is offline (default three intervals)",
    )
    retention_days: int = Field(default=90, ge=1, le=3650, description="Raw readings kept")
    rollup_1m_days: int = Field(default=400, ge=1, le=3650)
    rollup_1h_days: int = Field(default=3650, ge=1, le=36500)
    max_points_per_minute: int | None = Field(
        default=None,
        ge=1,
        description="Per-device flood limit (default ten times the expected rate)",
    )
    metrics: list[MetricSpecIn] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        names = [m.name for m in self.metrics]
        if len(set(names)) != len(names):
            raise ValueError("metric names must be unique within a profile")
        return self


class ProfileUpdate(BaseModel):
    name_zh: str | None = Field(default=None, min_length=1, max_length=128)
    name_en: str | None = Field(default=None, max_length=128)
    expected_interval_s: int | None = Field(default=None, ge=1, le=86400)
    offline_after_s: int | None = Field(default=None, ge=1, le=30 * 86400)
    retention_days: int | None = Field(default=None, ge=1, le=3650)
    rollup_1m_days: int | None = Field(default=None, ge=1, le=3650)
    rollup_1h_days: int | None = Field(default=None, ge=1, le=36500)
    max_points_per_minute: int | None = Field(default=None, ge=1)


class ProfilePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name_zh: str
    name_en: str
    kind: DeviceKind
    expected_interval_s: int
    offline_after_s: int
    retention_days: int
    rollup_1m_days: int
    rollup_1h_days: int
    max_points_per_minute: int
    builtin: bool
    metrics: list[MetricPublic]


# -- devices --------------------------------------------------------------------------------


class Location(BaseModel):
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    crs: Crs = Field(
        default="wgs84",
        description="Datum of lon/lat: wgs84 (GPS, default) or gcj02 (surveyed on Amap)",
    )

    @model_validator(mode="after")
    def _both(self) -> Self:
        if (self.lon is None) != (self.lat is None):
            raise ValueError("give both lon and lat, or neither")
        return self


class DeviceCreate(Location):
    code: DeviceCode
    name: str = Field(min_length=1, max_length=128)
    profile: ProfileCode = Field(description="Code of the device profile")
    organization: str | None = Field(
        default=None, description="Owner organization code (default: the caller's)"
    )
    address: str = Field(default="", max_length=256)
    install_date: date | None = None


class DeviceUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=128)
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    crs: Crs = "wgs84"
    address: str | None = Field(default=None, max_length=256)
    install_date: date | None = None
    mode: DeviceMode | None = Field(default=None, description="maintenance (检修) or active")
    clear_fault: bool = Field(default=False, description="Forget the fault the device reported")


class DevicePublic(BaseModel):
    code: str
    name: str
    kind: DeviceKind
    profile: str
    organization: str
    status: DeviceStatus
    lon: float | None = Field(description="WGS-84")
    lat: float | None = Field(description="WGS-84")
    map_lon: float | None = Field(description="GCJ-02, the datum of the region boundaries")
    map_lat: float | None
    region_code: str | None
    address: str
    install_date: date | None
    mode: DeviceMode
    fault_code: str | None
    fault_message: str
    last_seen_at: UtcDatetime | None
    created_at: UtcDatetime


class DeviceCreated(DevicePublic):
    token: str = Field(description="The device token, shown once: send it as Bearer on HTTP")


class LatestReading(BaseModel):
    metric: str
    name_zh: str
    name_en: str
    unit: str
    value: float | None
    at: UtcDatetime | None


class DeviceDetail(DevicePublic):
    profile_name_zh: str
    profile_name_en: str
    expected_interval_s: int
    latest: list[LatestReading]
    open_alarms: int
    rejections: dict[str, int]


class ImportError_(BaseModel):
    row: int = Field(description="Line number in the file (the header is line 1)")
    code: str
    field: str
    message: str


class ImportResult(BaseModel):
    created: list[DeviceCreated]
    errors: list[ImportError_]


class TokenIssued(BaseModel):
    device: str
    token: str = Field(description="Shown once; the previous token stops working")


class DeviceSummary(BaseModel):
    total: int
    by_status: dict[str, int]
    by_kind: dict[str, int]
    by_region: dict[str, int]
    online_rate: float | None = Field(description="Online devices / devices not in maintenance")


# -- telemetry ------------------------------------------------------------------------------


class PointIn(BaseModel):
    ts: _datetime | int | None = Field(default=None, description="ISO 8601 or epoch ms")
    values: dict[str, float | bool] = Field(examples=[{"pm25": 35.2, "pm10": 61}])


class TelemetryIn(BaseModel):
    """Either one point (`ts`, `values`) or a batch (`points`)."""

    ts: _datetime | int | None = None
    values: dict[str, float | bool] | None = None
    points: list[PointIn] | None = None


class PointErrorOut(BaseModel):
    index: int = Field(description="Which point of the batch (-1: counted over the batch)")
    metric: str
    reason: str
    detail: str


class IngestResult(BaseModel):
    accepted: int
    rejected: int
    reasons: dict[str, int]
    errors: list[PointErrorOut]


class RejectionPublic(BaseModel):
    device: str
    reason: str
    count: int
    first_at: UtcDatetime
    last_at: UtcDatetime
    last_detail: str


class RejectedSample(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: UtcDatetime
    device_ref: str
    reason: str
    channel: str
    detail: str
    excerpt: str


class SeriesPoint(BaseModel):
    t: str
    v: float | None
    n: int | None = None


class Series(BaseModel):
    device: str | None
    points: list[SeriesPoint]


class QueryResult(BaseModel):
    metric: str
    unit: str
    from_: str = Field(alias="from")
    to: str
    agg: str | None
    bucket: str | None
    devices: int
    source: str = Field(description="rollup_1h, rollup_1m or raw")
    series: list[Series]

    model_config = ConfigDict(populate_by_name=True)


# -- alarms ---------------------------------------------------------------------------------


class AlarmRuleCreate(BaseModel):
    name: str = Field(min_length=1, max_length=128)
    profile: str | None = Field(default=None, description="Profile code (rule for all its devices)")
    device: str | None = Field(default=None, description="Device code (overrides profile rules)")
    kind: RuleKind
    metric: str | None = Field(default=None, max_length=64)
    op: Literal[">", ">=", "<", "<="] | None = None
    value: float | None = Field(default=None, description="Threshold, or change per minute")
    clear_value: float | None = Field(default=None, description="Clears at this value (hysteresis)")
    window_s: int | None = Field(default=None, ge=10, le=30 * 86400, description="No-data period")
    severity: Severity = Severity.major

    @model_validator(mode="after")
    def _shape(self) -> Self:
        if (self.profile is None) == (self.device is None):
            raise ValueError("give exactly one of profile and device")
        if self.kind == RuleKind.threshold and (
            self.metric is None or self.op is None or self.value is None
        ):
            raise ValueError("a threshold rule needs metric, op and value")
        if self.kind == RuleKind.rate_of_change and (
            self.metric is None or self.value is None or self.value <= 0
        ):
            raise ValueError("a rate_of_change rule needs metric and a positive value (per minute)")
        if self.kind == RuleKind.no_data and self.window_s is None:
            raise ValueError("a no_data rule needs window_s")
        return self


class AlarmRuleUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=128)
    op: Literal[">", ">=", "<", "<="] | None = None
    value: float | None = None
    clear_value: float | None = None
    window_s: int | None = Field(default=None, ge=10, le=30 * 86400)
    severity: Severity | None = None
    enabled: bool | None = None


class AlarmRulePublic(BaseModel):
    id: int
    name: str
    profile: str | None
    device: str | None
    kind: RuleKind
    metric: str | None
    op: str | None
    value: float | None
    clear_value: float | None
    window_s: int | None
    severity: Severity
    enabled: bool
    created_by: str
    created_at: UtcDatetime


class AlarmPublic(BaseModel):
    id: int
    state: AlarmState
    severity: Severity
    rule_id: int
    rule: str
    kind: RuleKind
    device: str
    device_name: str
    organization: str | None
    region: str | None
    metric: str | None
    message: str
    value: float | None
    occurrences: int
    raised_at: UtcDatetime
    acknowledged_at: UtcDatetime | None
    acknowledged_by: str | None
    cleared_at: UtcDatetime | None


class WebhookCreate(BaseModel):
    url: str = Field(pattern=r"^https?://[^\s]+$", max_length=500)
    name: str = Field(default="", max_length=128)
    events: str = Field(
        default="sensing.alarm.*",
        max_length=128,
        description="Event pattern, e.g. sensing.alarm.raised",
    )
    organization: str | None = Field(
        default=None,
        description="Only alarms of this organization's devices (default: the caller's)",
    )


class WebhookPublic(BaseModel):
    id: int
    name: str
    url: str
    events: str
    organization: str | None
    active: bool
    created_by: str
    created_at: UtcDatetime


class WebhookCreated(WebhookPublic):
    secret: str = Field(description="HMAC-SHA256 key, shown once: verify X-CityHub-Signature")


class DeliveryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    event: str
    status: str
    attempts: int
    next_attempt_at: UtcDatetime
    last_status: int | None
    last_error: str
    created_at: UtcDatetime
    delivered_at: UtcDatetime | None


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True)
