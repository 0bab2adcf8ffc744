"""Pydantic shapes of the operator's work: incidents, emergency plans and drills,
construction projects. Unknown fields are refused (`extra="forbid"`)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from cityhub.ops.schemas import Code, SystemRef
from cityhub.ops.vocab import (
    Connection,
    Criticality,
    DrillOutcome,
    EventKind,
    IncidentSource,
    IncidentStatus,
    PlanLevel,
    ProjectStatus,
    SystemKind,
)
from cityhub.standards import phone

_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")  # 0539-8888888[-123]
# Service numbers: 110, 119, 12345, 10010, 95598, 400-123-4567.
_SERVICE = re.compile(r"^(1\d{2}|1\d{4}|9\d{4}|[4-9]\d{2}-?\d{3}-?\d{4})$")


def _text(value: str) -> str:
    return value.strip()


Text = Annotated[str, AfterValidator(_text)]


# -- incidents -------------------------------------------------------------------------------


class IncidentCreate(BaseModel):
    """An incident opened by hand."""

    model_config = ConfigDict(extra="forbid")

    system: str = Field(max_length=64, description="Code of the affected system")
    title: Text = Field(min_length=2, max_length=200)
    description: Text = Field(default="", max_length=5000)
    event_kind: EventKind = EventKind.outage
    assignee: str | None = Field(default=None, max_length=64, description="Username")
    plan: str | None = Field(
        default=None, max_length=64, description="Plan code; empty picks the best match"
    )


class IncidentAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Text = Field(default="", max_length=5000)


class IncidentResolve(IncidentAction):
    cause: Text = Field(default="", max_length=5000, description="故障原因")
    fix: Text = Field(default="", max_length=5000, description="处理措施 (required)")


class IncidentClose(IncidentAction):
    cause: Text | None = Field(default=None, max_length=5000)
    fix: Text | None = Field(default=None, max_length=5000)


class IncidentAssign(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assignee: str = Field(min_length=1, max_length=64, description="Username of the handler")
    note: Text = Field(default="", max_length=5000)


class IncidentComment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Text = Field(min_length=1, max_length=5000)


class IncidentPlanSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan: str = Field(min_length=1, max_length=64)


class IncidentTiming(BaseModel):
    """Response and resolution measured against the criticality's targets."""

    response_target_s: int
    resolution_target_s: int
    response_s: float | None = Field(description="opened → first response")
    resolution_s: float | None = Field(description="opened → resolved")
    response_met: bool | None
    resolution_met: bool | None
    response_breached: bool = Field(description="Past the response target and not answered")
    resolution_breached: bool = Field(description="Past the resolution target and unresolved")


class PlanRef(BaseModel):
    code: str
    name: str
    level: PlanLevel


class IncidentPublic(BaseModel):
    id: int
    system: SystemRef
    probe_id: int | None
    title: str
    description: str
    event_kind: EventKind
    status: IncidentStatus
    source: IncidentSource
    assignee: str | None
    plan: PlanRef | None
    opened_at: datetime
    first_response_at: datetime | None
    acknowledged_at: datetime | None
    started_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    opened_by: str
    cause: str
    fix: str
    failure_count: int
    last_failure_at: datetime | None
    timing: IncidentTiming


class TimelineEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    note: str


class StepState(BaseModel):
    """A step of the incident's plan and whether it is done."""

    key: str
    title: str
    owner: str
    depends_on: list[str]
    ready: bool = Field(description="Every step it depends on is done")
    done_at: datetime | None
    done_by: str | None
    note: str


class IncidentDetail(IncidentPublic):
    timeline: list[TimelineEntry]
    steps: list[StepState]


# -- plans ----------------------------------------------------------------------------------


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="Unique within the plan")
    title: Text = Field(min_length=1, max_length=200)
    description: Text = Field(default="", max_length=2000)
    owner: Text = Field(default="", max_length=100, description="Who does it, e.g. 值班工程师")
    depends_on: list[str] = Field(default_factory=list, max_length=50)
    minutes: int | None = Field(default=None, ge=1, le=100_000, description="Expected duration")


def _check_phone(value: str) -> str:
    value = value.strip()
    if phone.normalize(value) or _LANDLINE.match(value) or _SERVICE.match(value):
        return value
    raise ValueError(
        f"{value!r} is not a phone number (mobile 13800138000, landline 0539-8123456, or a "
        "service number such as 119)"
    )


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text = Field(min_length=1, max_length=64)
    role: Text = Field(default="", max_length=100, description="e.g. 应急指挥长")
    phone: Annotated[str, AfterValidator(_check_phone)] = Field(max_length=32)
    organization: str = Field(default="", max_length=32, description="Organization code")


class _PlanFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text | None = Field(default=None, min_length=2, max_length=200)
    level: PlanLevel | None = None
    system: str | None = Field(default=None, max_length=64, description="System code")
    event_kinds: list[EventKind] | None = None
    system_kinds: list[SystemKind] | None = None
    min_criticality: Criticality | None = None
    trigger_text: Text | None = Field(default=None, max_length=5000, description="触发条件")
    steps: list[StepIn] | None = Field(default=None, max_length=200)
    contacts: list[ContactIn] | None = Field(default=None, max_length=100)
    active: bool | None = None

    @field_validator("steps")
    @classmethod
    def _dag(cls, value: list[StepIn] | None) -> list[StepIn] | None:
        if value is not None:
            from cityhub.ops.dag import order_steps

            order_steps(value)
        return value


class PlanCreate(_PlanFields):
    code: Code
    name: Text = Field(min_length=2, max_length=200)
    level: PlanLevel
    event_kinds: list[EventKind] = Field(default_factory=list)
    system_kinds: list[SystemKind] = Field(default_factory=list)
    trigger_text: Text = Field(default="", max_length=5000)
    steps: list[StepIn] = Field(min_length=1, max_length=200)
    contacts: list[ContactIn] = Field(default_factory=list, max_length=100)
    active: bool = True

    @model_validator(mode="after")
    def _scope(self) -> PlanCreate:
        if not self.system and not self.event_kinds:
            raise ValueError(
                "a plan covers one system (system) or kinds of event (event_kinds): give one"
            )
        return self


class PlanUpdate(_PlanFields):
    """A partial change; lists are replaced whole and steps re-checked for cycles."""


class StepPublic(BaseModel):
    key: str
    title: str
    description: str
    owner: str
    depends_on: list[str]
    minutes: int | None


class ContactPublic(BaseModel):
    name: str
    role: str
    phone: str
    organization: str


class DrillCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    held_on: date
    scenario: Text = Field(min_length=2, max_length=2000)
    participants: int = Field(default=0, ge=0, le=100_000)
    duration_minutes: int | None = Field(default=None, ge=1, le=100_000)
    outcome: DrillOutcome
    findings: Text = Field(default="", max_length=5000)


class DrillPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    held_on: date
    scenario: str
    participants: int
    duration_minutes: int | None
    outcome: DrillOutcome
    findings: str
    recorded_by: str
    recorded_at: datetime


class PlanPublic(BaseModel):
    code: str
    name: str
    level: PlanLevel
    system: SystemRef | None
    event_kinds: list[EventKind]
    system_kinds: list[SystemKind]
    min_criticality: Criticality | None
    trigger_text: str
    steps: list[StepPublic] = Field(description="In an order that respects every dependency")
    contacts: list[ContactPublic]
    active: bool
    version: int
    drills: int
    last_drill_on: date | None
    created_at: datetime
    updated_at: datetime


# -- construction projects -----------------------------------------------------------------


class ProjectSystem(BaseModel):
    """The system the project builds; it joins the monitored systems on acceptance."""

    model_config = ConfigDict(extra="forbid")

    code: Code
    name_zh: Text = Field(min_length=1, max_length=128)
    name_en: Text = Field(default="", max_length=256)
    kind: SystemKind
    criticality: Criticality = Criticality.medium
    connection: Connection = Connection.standard
    url: str = Field(default="", max_length=500)


class ProjectCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Code
    name: Text = Field(min_length=2, max_length=200)
    organization: str | None = Field(
        default=None, max_length=32, description="Requesting department; default the caller's"
    )
    requirement: Text = Field(min_length=2, max_length=10_000, description="需求及建设标准")
    budget_wan: float | None = Field(default=None, ge=0, le=1e9, description="Budget, 万元")
    planned_finish: date | None = None
    system: ProjectSystem
    resources: list[dict[str, Any]] = Field(
        default_factory=list,
        max_length=100,
        description="Data resources the system will provide, as catalog ResourceCreate bodies; "
        "they become draft catalog resources on acceptance",
    )


class ProjectAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Text = Field(default="", max_length=5000)


class ProjectStep(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str
    note: str


class ProjectPublic(BaseModel):
    code: str
    name: str
    organization: str
    organization_name: str
    requirement: str
    budget_wan: float | None
    status: ProjectStatus
    planned_finish: date | None
    system: ProjectSystem
    resources: list[dict[str, Any]]
    monitored_system: str | None = Field(description="Code of the system once it joined")
    catalog_codes: list[str] = Field(description="Catalog resources created on acceptance")
    requested_at: datetime
    approved_at: datetime | None
    started_at: datetime | None
    accepted_at: datetime | None
    ended_at: datetime | None
    created_by: str
    overdue: bool = Field(description="Past its planned finish and not accepted")
    steps: list[ProjectStep]
