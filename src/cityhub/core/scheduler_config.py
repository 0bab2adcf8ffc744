"""Settings of the in-process scheduler, read from `CITYHUB_SCHEDULER_*`."""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from cityhub.errors import ConfigError


class SchedulerSettings(BaseSettings):
    """Settings of the in-process scheduler, read from `CITYHUB_SCHEDULER_*`."""

    model_config = SettingsConfigDict(
        env_prefix="CITYHUB_SCHEDULER_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    enabled: bool = Field(
        default=True,
        description="Run periodic jobs (probes, upkeep of every package) inside the server "
        "process. Turn off on API-only workers when another process runs them.",
    )
    workers: int = Field(
        default=8,
        ge=1,
        le=256,
        description="Worker threads running jobs; a run that outlives its timeout is "
        "abandoned and its worker replaced, so hung runs never use up the pool.",
    )
    tick_seconds: float = Field(
        default=0.25,
        gt=0,
        le=10,
        description="How often the scheduler looks for due jobs and runs past their timeout.",
    )
    max_abandoned: int = Field(
        default=64,
        ge=1,
        description="Most abandoned (timed-out, still blocked) threads tolerated; beyond it no "
        "replacement worker is started and the pool shrinks until they return.",
    )


def load_scheduler_settings(**overrides: Any) -> SchedulerSettings:
    try:
        return SchedulerSettings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ConfigError(
            f"invalid setting CITYHUB_SCHEDULER_{name.upper()}: {first['msg']}"
        ) from None
