"""Pydantic shapes of monitored systems, probes, results and availability. Unknown fields are
refused (`extra="forbid"`), so a typo is a 422 rather than a silent no-op.

Per-kind probe parameters are their own models (`PARAMS`): `params` is checked against the
probe kind's model, and the target against the kind's syntax, before anything is stored.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from cityhub.ops import targets
from cityhub.ops.durations import parse_duration
from cityhub.ops.vocab import (
    Connection,
    Criticality,
    ProbeKind,
    SystemKind,
    SystemStatus,
)

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$"
MIN_INTERVAL = 1.0
MAX_INTERVAL = 7 * 86400.0
MAX_TIMEOUT = 300.0

Code = Annotated[str, Field(pattern=CODE_PATTERN, description="Stable short code, e.g. LYJT-ZHJT")]


class OrgRef(BaseModel):
    code: str
    name_zh: str
    name_en: str


class SystemRef(BaseModel):
    code: str
    name_zh: str
    name_en: str
    criticality: Criticality


class TargetsPublic(BaseModel):
    availability: float = Field(description="Monthly availability target, e.g. 0.999")
    response_minutes: int
    resolution_minutes: int


# -- systems ------------------------------------------------------------------------------


class SystemBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_zh: str = Field(min_length=1, max_length=128, description="名称, e.g. 智慧交通")
    name_en: str = Field(default="", max_length=256)
    organization: str = Field(max_length=32, description="Owner organization code")
    kind: SystemKind
    criticality: Criticality = Criticality.medium
    connection: Connection = Connection.standard
    description: str = Field(default="", max_length=2000)
    url: str = Field(default="", max_length=500, description="Where people use the system")
    active: bool = True


class SystemCreate(SystemBase):
    code: Code


class SystemUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_zh: str | None = Field(default=None, min_length=1, max_length=128)
    name_en: str | None = Field(default=None, max_length=256)
    organization: str | None = Field(default=None, max_length=32)
    kind: SystemKind | None = None
    criticality: Criticality | None = None
    connection: Connection | None = None
    description: str | None = Field(default=None, max_length=2000)
    url: str | None = Field(default=None, max_length=500)
    active: bool | None = None


# -- probe parameters, one model per kind --------------------------------------------------


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HttpParams(_Params):
    method: str = Field(default="GET", pattern=r"^(GET|HEAD)$")
    expected_status: list[int] = Field(
        default_factory=list,
        max_length=20,
        description="Accepted status codes; empty accepts 200-399",
    )
    expected_text: str = Field(default="", max_length=500, description="Must occur in the body")
    max_latency_ms: int | None = Field(
        default=None, ge=1, le=600_000, description="Slower answers count as degraded"
    )
    verify_tls: bool = True
    follow_redirects: bool = True

    @field_validator("expected_status")
    @classmethod
    def _statuses(cls, value: list[int]) -> list[int]:
        for code in value:
            if not 100 <= code <= 599:
                raise ValueError(f"{code} is not an HTTP status code (100-599)")
        return sorted(set(value))


class TcpParams(_Params):
    pass


class DatabaseParams(_Params):
    query: str = Field(default="SELECT 1", min_length=1, max_length=2000)
    expected: str | None = Field(
        default=None, max_length=500, description="The first column of the first row, as text"
    )

    @field_validator("query")
    @classmethod
    def _one_select(cls, value: str) -> str:
        targets.check_read_query(value)
        return value.strip()


class MqttParams(_Params):
    pass


class FreshnessParams(_Params):
    grace: float = Field(
        default=1.0, ge=1.0, le=10.0, description="Allowed age as a multiple of the update cycle"
    )


class DeviceOnlineParams(_Params):
    threshold: float = Field(default=0.9, gt=0, le=1, description="Lowest online share")
    min_devices: int = Field(default=1, ge=1, description="Fewer active devices: skipped")
    device_kind: str | None = Field(default=None, max_length=16, description="Only this kind")


class PlatformParams(_Params):
    min_free_percent: float | None = Field(default=None, ge=0, le=100, description="disk")
    max_lag_seconds: int | None = Field(default=None, ge=1, description="ingester_lag")


PARAMS: dict[ProbeKind, type[_Params]] = {
    ProbeKind.http: HttpParams,
    ProbeKind.tcp: TcpParams,
    ProbeKind.database: DatabaseParams,
    ProbeKind.mqtt: MqttParams,
    ProbeKind.freshness: FreshnessParams,
    ProbeKind.device_online: DeviceOnlineParams,
    ProbeKind.platform: PlatformParams,
}


def check_params(kind: ProbeKind, params: dict[str, Any]) -> dict[str, Any]:
    """The kind's parameters with defaults filled in, or ValueError naming the bad one."""
    from pydantic import ValidationError

    try:
        model = PARAMS[kind].model_validate(params)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ValueError(f"params.{where} ({kind.value} probe): {message}") from None
    return model.model_dump(exclude_none=True)


def check_schedule(interval: float, timeout: float) -> None:
    if not MIN_INTERVAL <= interval <= MAX_INTERVAL:
        raise ValueError(
            f"interval {interval:g}s is out of range: use {MIN_INTERVAL:g}s to 7d (e.g. 30s, 5m)"
        )
    if not 0 < timeout <= MAX_TIMEOUT:
        raise ValueError(f"timeout {timeout:g}s is out of range: use more than 0 up to 300s")
    if timeout >= interval:
        raise ValueError(
            f"timeout {timeout:g}s must be shorter than the interval {interval:g}s, or runs "
            "of the probe would overlap"
        )


Duration = Annotated[
    str | float,
    Field(description="A duration: 30s, 5m, 1h30m, 2d, or a number of seconds"),
]


def _seconds(value: str | float | None, name: str) -> float | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


# -- probes ---------------------------------------------------------------------------------


class ProbeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128)
    kind: ProbeKind
    target: str = Field(
        min_length=1,
        max_length=1000,
        description="http: URL (or /path on this platform); tcp: host:port; database: "
        "SQLAlchemy URL; mqtt: mqtt://host:port; freshness: catalog resource code; "
        "device_online: organization code or *; platform: database, bus, broker, "
        "ingester_lag, scheduler or disk",
    )
    params: dict[str, Any] = Field(default_factory=dict)
    interval: Duration = "60s"
    timeout: Duration = "10s"
    failure_threshold: int | None = Field(
        default=None, ge=1, le=100, description="Consecutive failures that open an incident"
    )
    enabled: bool = True

    _interval_s: float = PrivateAttr(default=0.0)
    _timeout_s: float = PrivateAttr(default=0.0)

    @property
    def interval_seconds(self) -> float:
        return self._interval_s

    @property
    def timeout_seconds(self) -> float:
        return self._timeout_s

    @model_validator(mode="after")
    def _check(self) -> ProbeCreate:
        interval = _seconds(self.interval, "interval")
        timeout = _seconds(self.timeout, "timeout")
        assert interval is not None and timeout is not None
        check_schedule(interval, timeout)
        self._interval_s, self._timeout_s = interval, timeout
        self.target = targets.check_target(self.kind, self.target.strip())
        self.params = check_params(self.kind, self.params)
        return self


class ProbeUpdate(BaseModel):
    """A partial change; the target and parameters are checked against the probe's kind."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=128)
    target: str | None = Field(default=None, min_length=1, max_length=1000)
    params: dict[str, Any] | None = None
    interval: Duration | None = None
    timeout: Duration | None = None
    failure_threshold: int | None = Field(default=None, ge=1, le=100)
    enabled: bool | None = None

    def seconds(self) -> tuple[float | None, float | None]:
        return _seconds(self.interval, "interval"), _seconds(self.timeout, "timeout")


class ProbePublic(BaseModel):
    id: int
    system: str = Field(description="Code of the probed system")
    name: str
    kind: ProbeKind
    target: str = Field(description="Passwords in URLs are shown as ***")
    params: dict[str, Any]
    interval_seconds: int
    timeout_seconds: float
    failure_threshold: int
    enabled: bool
    next_run_at: datetime
    last_run_at: datetime | None
    last_outcome: str
    last_latency_ms: float | None
    last_message: str
    consecutive_failures: int
    failing_since: datetime | None


class ProbeResultPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    outcome: str
    latency_ms: float | None
    message: str


class SystemPublic(BaseModel):
    code: str
    name_zh: str
    name_en: str
    organization: OrgRef
    kind: SystemKind
    criticality: Criticality
    connection: Connection
    description: str
    url: str
    active: bool
    builtin: bool
    status: SystemStatus
    status_since: datetime | None
    checked_at: datetime | None
    targets: TargetsPublic
    open_incidents: int
    probes: list[ProbePublic]
    created_at: datetime
    updated_at: datetime


# -- availability ----------------------------------------------------------------------------


class DayAvailability(BaseModel):
    day: date
    availability: float | None = Field(description="1 - downtime / observed; null: not observed")
    downtime_s: float
    observed_s: float
    runs: int
    down_runs: int
    avg_latency_ms: float | None


class SystemMonth(BaseModel):
    system: SystemRef
    kind: SystemKind
    month: str = Field(description="YYYY-MM in the city's time zone")
    availability: float | None
    target: float
    met: bool | None = Field(description="availability >= target; null: not observed")
    downtime_s: float
    observed_s: float
    incidents: int
    response_met: int = Field(description="Incidents answered within the response target")
    resolution_met: int = Field(description="Incidents resolved within the resolution target")
    days: list[DayAvailability]


class AvailabilityReport(BaseModel):
    month: str
    timezone: str
    generated_at: datetime
    systems: list[SystemMonth]


class SystemTile(BaseModel):
    """One system on the system map."""

    code: str
    name_zh: str
    name_en: str
    organization: str
    kind: SystemKind
    criticality: Criticality
    connection: Connection
    status: SystemStatus
    status_since: datetime | None
    open_incidents: int
    availability_today: float | None


class OpsOverview(BaseModel):
    """The system map: every system's status, grouped by kind (JSON twin of /ops)."""

    generated_at: datetime
    statuses: dict[str, int] = Field(description="Systems by status")
    open_incidents: int
    breached_incidents: int = Field(description="Open incidents past a target")
    groups: dict[str, list[SystemTile]] = Field(description="Systems by kind")
