"""The sensing layer's API (/devices, /device-profiles, /telemetry, /alarms, /alarm-rules,
/alarm-webhooks) and its background work, started and stopped with the app: the upkeep as
jobs of the app's scheduler, the MQTT ingester and the simulators as their own threads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from starlette.concurrency import run_in_threadpool

from cityhub.sensing.api_alarms import router as alarms_router
from cityhub.sensing.api_devices import router as devices_router
from cityhub.sensing.api_telemetry import router as telemetry_router
from cityhub.sensing.runtime import SensingRuntime, install
from cityhub.settings import Settings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Runs after the app's own start-up (database checked and migrated)."""
    settings: Settings = app.state.settings
    install(app)  # the upkeep jobs, on the app's scheduler
    runtime = SensingRuntime(settings, app.state.sessions, app.state.bus)
    app.state.sensing = runtime
    await run_in_threadpool(runtime.start)
    if settings.demo_mode and settings.sensing_simulate:
        from cityhub.sensing.simulate import start_simulators

        await run_in_threadpool(start_simulators, app)
    try:
        yield
    finally:
        await run_in_threadpool(runtime.stop)


router = APIRouter(lifespan=lifespan)
router.include_router(devices_router)
router.include_router(telemetry_router)
router.include_router(alarms_router)
