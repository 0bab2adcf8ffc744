"""`cityhub deliver RESOURCE FILE`: progress, a summary line, one clear error line."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from cityhub.cli import main

from .conftest import PEOPLE, World, people_csv


def _env(world: World) -> dict[str, str]:
    return {
        "CITYHUB_DATABASE_URL": world.settings.database_url,
        "CITYHUB_DATA_DIR": str(world.settings.data_dir),
        "CITYHUB_DEMO_MODE": "true",
        "CITYHUB_LOG_LEVEL": "ERROR",
    }


def test_deliver_prints_progress_and_a_summary(world: World, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(people_csv(6).encode("gbk"))
    runner = CliRunner()
    result = runner.invoke(main, ["deliver", PEOPLE, str(path), "--as", "LYGA"], env=_env(world))
    assert result.exit_code == 0, result.output
    assert "6 rows in, 6 accepted (6 new" in result.output
    assert len(world.rows()) == 6
    again = runner.invoke(main, ["deliver", PEOPLE, str(path)], env=_env(world))
    assert again.exit_code == 0
    assert "was delivered before as batch" in again.output


def test_deliver_bad_input_is_one_line(world: World, tmp_path: Path) -> None:
    runner = CliRunner()
    env = _env(world)
    missing = runner.invoke(main, ["deliver", PEOPLE, str(tmp_path / "none.csv")], env=env)
    assert missing.exit_code == 1
    assert missing.output.strip().splitlines()[-1].startswith("cityhub: error: no such file")
    bad = tmp_path / "bad.csv"
    bad.write_text("sfzh,unknown\n1,2\n")
    result = runner.invoke(main, ["deliver", PEOPLE, str(bad)], env=env)
    assert result.exit_code == 1
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("cityhub: error: batch") and "unknown column(s) unknown" in last
    assert "Traceback" not in result.output
    world.officer("LYWJ")  # another department exists
    other = runner.invoke(main, ["deliver", PEOPLE, str(bad), "--as", "LYWJ"], env=env)
    assert "does not provide resource" in other.output
    unknown_org = runner.invoke(main, ["deliver", PEOPLE, str(bad), "--as", "NOPE"], env=env)
    assert "no organization with code 'NOPE'" in unknown_org.output
    nowhere = runner.invoke(main, ["deliver", "301999-LYGA-000009", str(bad)], env=env)
    assert "no resource with code" in nowhere.output
    wrong = runner.invoke(main, ["deliver", PEOPLE, str(bad), "--mode", "sideways"], env=env)
    assert wrong.exit_code == 2
