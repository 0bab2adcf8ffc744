"""Settings read from `CITYHUB_*` environment variables and an optional `.env` file."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cityhub.errors import ConfigError

DEFAULT_SECRET = "cityhub-demo-secret-change-me"


class Settings(BaseSettings):
    """Every knob of a cityhub process. `cityhub settings` prints them all."""

    model_config = SettingsConfigDict(
        env_prefix="CITYHUB_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(
        default=Path("data"),
        description="Directory for the embedded database, uploads and exports.",
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL of the platform database; empty means a SQLite file "
        "`cityhub.db` in the data directory. PostgreSQL: postgresql+psycopg://host/db.",
    )
    host: str = Field(default="127.0.0.1", description="Address the web server listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port the web server listens on.")
    secret_key: SecretStr = Field(
        default=SecretStr(DEFAULT_SECRET),
        description="Secret for signing session cookies and CSRF tokens. The default is "
        "refused outside demo mode.",
    )
    demo_mode: bool = Field(
        default=False, description="Demo mode: allows the default secret and demo credentials."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Lowest level of log records written (JSON, to stderr)."
    )
    city_code: str = Field(
        default="371300",
        pattern=r"^\d{6}$",
        description="GB/T 2260 code of the city this platform serves (default Linyi 371300).",
    )
    regions_dir: Path | None = Field(
        default=None,
        description="Directory of GeoJSON boundary files (one per region, named by code) for "
        "another city; empty uses the bundled Linyi boundaries.",
    )
    session_hours: int = Field(
        default=12, ge=1, le=720, description="Lifetime of a web login session, in hours."
    )
    login_max_failures: int = Field(
        default=5, ge=1, description="Failed logins per account or address before throttling."
    )
    login_lockout_minutes: int = Field(
        default=15, ge=1, description="How long logins stay throttled after too many failures."
    )
    default_language: Literal["zh-CN", "en"] = Field(
        default="zh-CN", description="Language of pages and messages when the user chose none."
    )

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("only sqlite:// and postgresql+psycopg:// URLs are supported")
        return value

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
            return url
        return f"sqlite:///{(self.data_dir / 'cityhub.db').resolve()}"

    def check_secrets(self) -> None:
        """Refuse the published default secret outside demo mode."""
        if not self.demo_mode and self.secret_key.get_secret_value() == DEFAULT_SECRET:
            raise ConfigError(
                "CITYHUB_SECRET_KEY is the published default; set your own secret "
                "(or run `cityhub demo`)"
            )


def load_settings(**overrides: Any) -> Settings:
    """Read settings, turning a bad value into one clear ConfigError."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ConfigError(f"invalid setting CITYHUB_{name.upper()}: {first['msg']}") from None


def describe(settings: Settings) -> list[tuple[str, str, str]]:
    """(env name, shown value, description) for every setting; secrets hidden."""
    rows = []
    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        shown = (
            "********" if isinstance(value, SecretStr) else str(value if value is not None else "")
        )
        if name == "database_url" and not value:
            shown = f"(default) {settings.effective_database_url}"
        rows.append((f"CITYHUB_{name.upper()}", shown, field.description or ""))
    return rows
