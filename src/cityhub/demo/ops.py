"""Operations in the Linyi demo: the guideline's 15 smart applications (4.2.1) and the
departments' systems as monitored systems, probed on simulated endpoints that this very
server answers at /demo/endpoints/{code} — some flaky on a seeded pattern, one slow, one
hanging now and then — so incidents open and resolve on their own while the demo runs.
Plus networks and sensing, the platform's self-monitoring, a few emergency plans with a
drill, and construction projects at every stage.

Idempotent: everything is keyed by code and left alone when it exists.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhub.core.db import utcnow
from cityhub.demo.ops_specs import (
    APPLICATIONS,
    CATALOG_SERVICE,
    DEPARTMENT_SYSTEMS,
    EXTRANET,
    PROJECTS,
    SENSING_NETWORK,
    SystemSpec,
    plan_bodies,
)
from cityhub.errors import NotFound
from cityhub.ops import integrations, plans, projects, systems
from cityhub.ops.models import MonitoredSystem, Plan, Project
from cityhub.ops.runtime import PLATFORM_CODE, platform_system_in
from cityhub.ops.schemas import ProbeCreate, SystemCreate
from cityhub.ops.schemas_work import DrillCreate, PlanCreate, ProjectCreate, ProjectSystem
from cityhub.ops.vocab import DrillOutcome
from cityhub.security.models import User
from cityhub.settings import Settings, load_settings

ACTOR = "demo"


_PATTERNS = ("flaky", "flaky", "flaky", "flaky", "slow", "hang")
_PROBE_INTERVAL, _PROBE_TIMEOUT = "30s", "5s"


def _endpoint(code: str, rng: random.Random, mode: str) -> str:
    if mode == "steady":
        return f"/demo/endpoints/{code}"
    period = rng.randint(15, 40)
    down = rng.randint(2, 4)
    phase = rng.randint(0, period - 1)
    return f"/demo/endpoints/{code}?mode={mode}&period={period}&down={down}&phase={phase}"


def _modes(seed: int) -> tuple[random.Random, dict[str, str]]:
    rng = random.Random(seed)
    codes = [s.code for s in (*APPLICATIONS, *DEPARTMENT_SYSTEMS)]
    chosen = rng.sample(codes, len(_PATTERNS))
    return rng, dict(zip(chosen, _PATTERNS, strict=True))


def _system(session: Session, spec: SystemSpec) -> MonitoredSystem | None:
    exists = session.scalar(select(MonitoredSystem).where(MonitoredSystem.code == spec.code))
    if exists is not None:
        return None
    return systems.create_system(
        session,
        SystemCreate(
            code=spec.code,
            name_zh=spec.name_zh,
            name_en=spec.name_en,
            organization=spec.org,
            kind=spec.kind,
            criticality=spec.criticality,
            connection=spec.connection,
        ),
        ACTOR,
    )


def _probe(session: Session, system: MonitoredSystem, name: str, **body: Any) -> None:
    systems.add_probe(
        session, system, ProbeCreate.model_validate({"name": name, **body}), load_settings(), ACTOR
    )


def build(session: Session, settings: Settings, seed: int) -> None:
    """Register the demo's monitored systems, probes, plans, drills and projects."""
    rng, modes = _modes(seed)
    for spec in (*APPLICATIONS, *DEPARTMENT_SYSTEMS):
        system = _system(session, spec)
        if system is None:
            continue
        target = _endpoint(spec.code, rng, modes.get(spec.code, "steady"))
        params = {"expected_text": '"ok"', "max_latency_ms": 1000}
        _probe(
            session,
            system,
            "服务可用性 HTTP",
            kind="http",
            target=target,
            params=params,
            interval=_PROBE_INTERVAL,
            timeout=_PROBE_TIMEOUT,
            failure_threshold=2,
        )
    _infrastructure(session, settings)
    session.flush()
    platform_system_in(session, settings)
    _plans(session)
    _projects(session)


def _infrastructure(session: Session, settings: Settings) -> None:
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    network = _system(
        session,
        EXTRANET,
    )
    if network is not None:
        _probe(
            session,
            network,
            "平台入口端口 TCP",
            kind="tcp",
            target=f"{host}:{settings.port}",
            interval="60s",
            timeout="3s",
        )
    sensing = _system(
        session,
        SENSING_NETWORK,
    )
    if sensing is not None:
        _probe(
            session,
            sensing,
            "设备在线率",
            kind="device_online",
            target="*",
            params={"threshold": 0.8},
            interval="60s",
            timeout="10s",
        )
        if settings.mqtt_url:
            _probe(
                session,
                sensing,
                "MQTT 代理",
                kind="mqtt",
                target=settings.mqtt_url,
                interval="60s",
                timeout="5s",
            )
    catalog = _system(
        session,
        CATALOG_SERVICE,
    )
    if catalog is not None:
        _probe(
            session,
            catalog,
            "数据目录接口",
            kind="http",
            target="/api/v1/resources?limit=1",
            params={"expected_status": [200]},
            interval="60s",
            timeout="5s",
        )
        for code in _fresh_candidates(session):
            _probe(
                session,
                catalog,
                f"数据时效 {code}",
                kind="freshness",
                target=code,
                interval="10m",
                timeout="10s",
            )


def _fresh_candidates(session: Session) -> list[str]:
    """A few published catalog resources to watch for freshness, when the catalog exists."""
    models = integrations.module("catalog.models")
    if models is None:
        return []
    resource = models.Resource
    return list(
        session.scalars(
            select(resource.code)
            .where(resource.status == "published", resource.update_cycle.in_(["daily", "realtime"]))
            .order_by(resource.code)
            .limit(3)
        )
    )


# -- plans -----------------------------------------------------------------------------------


def _plans(session: Session) -> None:
    for body in plan_bodies():
        if session.scalar(select(Plan.id).where(Plan.code == body["code"])):
            continue
        plan = plans.create_plan(session, PlanCreate.model_validate(body), ACTOR)
        if plan.code == "YA-ZHPA-01":
            plans.record_drill(
                session,
                plan,
                DrillCreate(
                    held_on=(utcnow() - timedelta(days=30)).date(),
                    scenario="模拟智慧平安核心交换机故障，切换备用链路",
                    participants=14,
                    duration_minutes=45,
                    outcome=DrillOutcome.partial,
                    findings="备用链路切换耗时 18 分钟，超出 15 分钟目标；已调整切换脚本。",
                ),
                ACTOR,
            )


# -- projects ------------------------------------------------------------------------------

_STEPS = {
    "requirement": [],
    "approved": ["approve"],
    "implementing": ["approve", "start"],
    "accepted": ["approve", "start", "accept"],
}


def _projects(session: Session) -> None:
    admin = session.scalar(select(User).where(User.username == "admin"))
    if admin is None:
        return
    catalog = integrations.catalog_installed()
    for code, name, org, sys_code, sys_name, kind, status, budget, resources in PROJECTS:
        if session.scalar(select(Project.id).where(Project.code == code)):
            continue
        if session.scalar(select(MonitoredSystem.id).where(MonitoredSystem.code == sys_code)):
            continue
        if catalog and any(integrations.catalog_resource(session, r["code"]) for r in resources):
            resources = []  # the catalog already holds them: do not register twice
        body = ProjectCreate(
            code=code,
            name=name,
            organization=org,
            requirement=f"{name}：由部门提出需求及建设标准，运营公司实施并纳入平台运营管理。",
            budget_wan=budget,
            planned_finish=(utcnow() + timedelta(days=120)).date(),
            system=ProjectSystem(code=sys_code, name_zh=sys_name, kind=kind),
            resources=resources,
        )
        project = projects.create_project(session, body, admin)
        for action in _STEPS[status]:
            projects.act(session, project, action, admin, "演示数据")
        joined = session.get(MonitoredSystem, project.system_id) if project.system_id else None
        if joined is not None:  # in operation now: watched like every other system
            _probe(
                session,
                joined,
                "服务可用性 HTTP",
                kind="http",
                target=f"/demo/endpoints/{joined.code}",
                interval=_PROBE_INTERVAL,
                timeout=_PROBE_TIMEOUT,
            )


# -- the simulated endpoints -----------------------------------------------------------------

router = APIRouter(include_in_schema=False)
MODES = ("steady", "flaky", "slow", "hang")


@router.get("/demo/endpoints/{code}")
async def simulated_endpoint(
    code: str,
    request: Request,
    mode: Annotated[str, Query(pattern="^(steady|flaky|slow|hang)$")] = "steady",
    period: Annotated[int, Query(ge=2, le=1440)] = 30,
    down: Annotated[int, Query(ge=0, le=1440)] = 0,
    phase: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> JSONResponse:
    """A demo system's health endpoint: down, slow or hanging for `down` minutes of every
    `period`, shifted by `phase` (all drawn from the demo seed)."""
    if not request.app.state.settings.demo_mode:
        raise NotFound("simulated endpoints exist in demo mode only")
    minute = int(time.time() // 60)
    troubled = mode != "steady" and (minute + phase) % period < down
    if troubled and mode == "flaky":
        return JSONResponse({"status": "down", "system": code}, status_code=503)
    if troubled and mode == "slow":
        await anyio.sleep(1.5)
    if troubled and mode == "hang":
        await anyio.sleep(8.0)
    return JSONResponse({"status": "ok", "system": code})


__all__ = ["APPLICATIONS", "DEPARTMENT_SYSTEMS", "PLATFORM_CODE", "build", "router"]
