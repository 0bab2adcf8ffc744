from __future__ import annotations

from pathlib import Path

import pytest

from cityhub.errors import ConfigError
from cityhub.settings import DEFAULT_SECRET, Settings, describe, load_settings


def test_defaults_use_a_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.effective_database_url == f"sqlite:///{tmp_path.resolve() / 'cityhub.db'}"


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYHUB_PORT", "9100")
    monkeypatch.setenv("CITYHUB_DATABASE_URL", "postgresql://db.example/city")
    settings = load_settings()
    assert settings.port == 9100
    assert settings.effective_database_url == "postgresql+psycopg://db.example/city"


def test_dotenv_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("CITYHUB_LOG_LEVEL=DEBUG\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings().log_level == "DEBUG"


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("CITYHUB_PORT", "eighty", "CITYHUB_PORT"),
        ("CITYHUB_PORT", "70000", "less than or equal to 65535"),
        ("CITYHUB_DATABASE_URL", "mysql://x/y", "only sqlite"),
        ("CITYHUB_LOG_LEVEL", "LOUD", "CITYHUB_LOG_LEVEL"),
        ("CITYHUB_CITY_CODE", "37130", "CITYHUB_CITY_CODE"),
    ],
)
def test_invalid_value_is_one_clear_error(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, reason: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert reason in caught.value.detail
    assert "\n" not in caught.value.detail


def test_default_secret_refused_outside_demo_mode() -> None:
    with pytest.raises(ConfigError, match="CITYHUB_SECRET_KEY"):
        Settings(demo_mode=False).check_secrets()
    Settings(demo_mode=True).check_secrets()
    Settings(demo_mode=False, secret_key="a-real-secret-of-our-own").check_secrets()


def test_describe_lists_every_setting_and_hides_secrets() -> None:
    rows = describe(Settings(secret_key="s3cret-value"))
    names = {name for name, _, _ in rows}
    assert names == {f"CITYHUB_{n.upper()}" for n in Settings.model_fields}
    assert all(description for _, _, description in rows), "every setting is described"
    shown = dict((name, value) for name, value, _ in rows)
    assert shown["CITYHUB_SECRET_KEY"] == "********"
    assert "s3cret-value" not in str(rows) and DEFAULT_SECRET not in str(rows)
