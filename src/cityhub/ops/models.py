"""Tables of operations: monitored systems, probes and their results, daily counts,
outages, incidents with their timeline and plan steps, emergency plans and drills,
construction projects. Enumerations are stored as their slug strings (see vocab.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cityhub.core.db import Base, utcnow

if TYPE_CHECKING:
    from cityhub.directory.models import Organization

BigId = BigInteger().with_variant(Integer, "sqlite")


class MonitoredSystem(Base):
    """A system the operating company answers for (业务系统)."""

    __tablename__ = "ops_systems"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(256), default="")
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)  # SystemKind
    criticality: Mapped[str] = mapped_column(String(16))  # Criticality
    connection: Mapped[str] = mapped_column(String(16))  # Connection
    description: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(500), default="")  # where people use it
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)  # the platform itself
    status: Mapped[str] = mapped_column(String(16), default="unknown", index=True)
    status_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")

    organization: Mapped[Organization] = relationship(lazy="joined")
    probes: Mapped[list[Probe]] = relationship(
        back_populates="system", lazy="selectin", order_by="Probe.id"
    )


class Probe(Base):
    """A check of one system on a schedule. `next_run_at` and `lease_until` let any process
    claim a due probe with one conditional UPDATE, so each run happens once."""

    __tablename__ = "ops_probes"

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("ops_systems.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))  # ProbeKind
    target: Mapped[str] = mapped_column(String(1000))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    interval_seconds: Mapped[int] = mapped_column(Integer)
    timeout_seconds: Mapped[float] = mapped_column(Float)
    failure_threshold: Mapped[int] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    next_run_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    last_outcome: Mapped[str] = mapped_column(String(16), default="")
    last_latency_ms: Mapped[float | None] = mapped_column(Float, default=None)
    last_message: Mapped[str] = mapped_column(String(500), default="")
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    failing_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    system: Mapped[MonitoredSystem] = relationship(back_populates="probes")


class ProbeResult(Base):
    """One run of a probe. Pruned after CITYHUB_OPS_RESULT_RETENTION_DAYS."""

    __tablename__ = "ops_probe_results"
    __table_args__ = (
        Index("ix_ops_probe_results_probe_at", "probe_id", "at"),
        Index("ix_ops_probe_results_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    probe_id: Mapped[int] = mapped_column(ForeignKey("ops_probes.id", ondelete="CASCADE"))
    system_id: Mapped[int] = mapped_column(Integer, index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    outcome: Mapped[str] = mapped_column(String(16))
    latency_ms: Mapped[float | None] = mapped_column(Float, default=None)
    message: Mapped[str] = mapped_column(String(500), default="")


class DailyCount(Base):
    """Probe runs per system and local day, by outcome: availability tables read these,
    never the raw results."""

    __tablename__ = "ops_daily"

    system_id: Mapped[int] = mapped_column(
        ForeignKey("ops_systems.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    up: Mapped[int] = mapped_column(Integer, default=0)
    degraded: Mapped[int] = mapped_column(Integer, default=0)
    down: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms_sum: Mapped[float] = mapped_column(Float, default=0.0)
    latency_n: Mapped[int] = mapped_column(Integer, default=0)


class Outage(Base):
    """A span during which the system was down: from the first failed run of any of its
    probes to the run after which none failed. Availability is 1 - downtime / time."""

    __tablename__ = "ops_outages"
    __table_args__ = (Index("ix_ops_outages_system_started", "system_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("ops_systems.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    probe_id: Mapped[int | None] = mapped_column(Integer, default=None)  # the first to fail
    note: Mapped[str] = mapped_column(String(500), default="")


class Incident(Base):
    """A fault (故障): opened by a probe or by hand, handled through its lifecycle."""

    __tablename__ = "ops_incidents"
    __table_args__ = (Index("ix_ops_incidents_probe_status", "probe_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("ops_systems.id"), index=True)
    probe_id: Mapped[int | None] = mapped_column(
        ForeignKey("ops_probes.id", ondelete="SET NULL"), default=None
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    event_kind: Mapped[str] = mapped_column(String(32))  # EventKind
    criticality: Mapped[str] = mapped_column(String(16))  # the system's, when opened
    status: Mapped[str] = mapped_column(String(16), index=True)  # IncidentStatus
    source: Mapped[str] = mapped_column(String(16))  # IncidentSource
    assignee: Mapped[str | None] = mapped_column(String(64), default=None)
    plan_id: Mapped[int | None] = mapped_column(
        ForeignKey("ops_plans.id", ondelete="SET NULL"), default=None
    )
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    first_response_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=None
    )
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    opened_by: Mapped[str] = mapped_column(String(64))
    cause: Mapped[str] = mapped_column(Text, default="")
    fix: Mapped[str] = mapped_column(Text, default="")
    response_target_s: Mapped[int] = mapped_column(Integer)
    resolution_target_s: Mapped[int] = mapped_column(Integer)
    failure_count: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    system: Mapped[MonitoredSystem] = relationship(lazy="joined")


class IncidentEvent(Base):
    """The incident's timeline (append-only)."""

    __tablename__ = "ops_incident_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("ops_incidents.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16), default=None)
    to_status: Mapped[str | None] = mapped_column(String(16), default=None)
    note: Mapped[str] = mapped_column(Text, default="")


class IncidentStep(Base):
    """A step of the incident's emergency plan, recorded done."""

    __tablename__ = "ops_incident_steps"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("ops_incidents.id", ondelete="CASCADE"), primary_key=True
    )
    step_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    done_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    done_by: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")


class Plan(Base):
    """An emergency plan (应急预案) for one system or for a kind of event."""

    __tablename__ = "ops_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(4))  # PlanLevel
    system_id: Mapped[int | None] = mapped_column(
        ForeignKey("ops_systems.id", ondelete="SET NULL"), index=True, default=None
    )
    event_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    system_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    min_criticality: Mapped[str | None] = mapped_column(String(16), default=None)
    trigger_text: Mapped[str] = mapped_column(Text, default="")
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    updated_by: Mapped[str] = mapped_column(String(64), default="")

    system: Mapped[MonitoredSystem | None] = relationship(lazy="joined")


class Drill(Base):
    """A plan drill (应急演练) as it was held."""

    __tablename__ = "ops_plan_drills"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("ops_plans.id", ondelete="CASCADE"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    scenario: Mapped[str] = mapped_column(Text)
    participants: Mapped[int] = mapped_column(Integer, default=0)
    duration_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    outcome: Mapped[str] = mapped_column(String(16))  # DrillOutcome
    findings: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Project(Base):
    """A construction project (建设项目): a department's requirement, built by the operating
    company, accepted, then run as a monitored system with its data in the catalog."""

    __tablename__ = "ops_projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    requirement: Mapped[str] = mapped_column(Text)
    budget_wan: Mapped[float | None] = mapped_column(Float, default=None)  # 万元
    status: Mapped[str] = mapped_column(String(16), index=True)  # ProjectStatus
    system_code: Mapped[str] = mapped_column(String(64))
    system_name_zh: Mapped[str] = mapped_column(String(128))
    system_name_en: Mapped[str] = mapped_column(String(256), default="")
    system_kind: Mapped[str] = mapped_column(String(32))
    criticality: Mapped[str] = mapped_column(String(16))
    connection: Mapped[str] = mapped_column(String(16))
    system_url: Mapped[str] = mapped_column(String(500), default="")
    resources: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    catalog_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    system_id: Mapped[int | None] = mapped_column(
        ForeignKey("ops_systems.id", ondelete="SET NULL"), default=None
    )
    planned_finish: Mapped[date | None] = mapped_column(Date, default=None)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    organization: Mapped[Organization] = relationship(lazy="joined")


class ProjectEvent(Base):
    """A project's steps: who moved it, when, and why (append-only)."""

    __tablename__ = "ops_project_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("ops_projects.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16), default=None)
    to_status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
