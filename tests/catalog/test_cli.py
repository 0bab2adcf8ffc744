"""`cityhub catalog ...`: show, export, reindex, mask; one clear line for every mistake."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from rdflib import Graph

from cityhub.cli import main
from cityhub.settings import Settings

from .helpers import AIR, POPULATION


@pytest.fixture
def run(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Result]:
    for name in ("CITYHUB_DATABASE_URL", "CITYHUB_SECRET_KEY", "CITYHUB_DEMO_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    env = {
        "CITYHUB_DATABASE_URL": settings.effective_database_url,
        "CITYHUB_DATA_DIR": str(tmp_path / "data"),
        "CITYHUB_DEMO_MODE": "1",
        "CITYHUB_LOG_LEVEL": "WARNING",
    }

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), env=env)

    return invoke


def _one_line_error(result: Result, expected: str) -> None:
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == [lines[0]] and lines[0].startswith("cityhub: error: "), result.output
    assert expected in lines[0]


def test_show_export_and_reindex(
    run: Callable[..., Result], publish: Callable[..., dict[str, Any]], tmp_path: Path
) -> None:
    publish(POPULATION)
    publish(AIR)
    shown = run("catalog", "show", POPULATION["code"])
    assert shown.exit_code == 0 and '"name": "人口基础信息"' in shown.output
    _one_line_error(run("catalog", "show", "nope"), "no information resource with code 'nope'")

    target = tmp_path / "catalog.ttl"
    exported = run("catalog", "export", "--base-url", "https://data.linyi.example", "--output",
                   str(target))  # fmt: skip
    assert exported.exit_code == 0 and "1 resources written" in exported.output
    graph = Graph().parse(target, format="turtle")
    titles = {
        str(o) for o in graph.objects(None, graph.namespace_manager.expand_curie("dct:title"))
    }
    assert "空气质量监测数据" in titles and "人口基础信息" not in titles  # the open part
    everything = run("catalog", "export", "--all", "--format", "jsonld")
    assert everything.exit_code == 0 and "人口基础信息" in everything.output
    _one_line_error(run("catalog", "export", "--base-url", "ftp://x"), "--base-url must start")

    reindexed = run("catalog", "reindex")
    assert reindexed.exit_code == 0 and "0 resources reindexed" in reindexed.output


def test_mask_tries_a_rule(run: Callable[..., Result]) -> None:
    masked = run("catalog", "mask", "keep:first6,last4", "371302198001011234")
    assert masked.exit_code == 0
    assert masked.output.strip() == "371302198001011234\t371302********1234"
    _one_line_error(run("catalog", "mask", "blur", "x"), "unknown masking rule 'blur'")
