"""The database masks exactly as `catalog.masking` does, value for value."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, String, literal, select

from cityhub.catalog.masking import mask_values, parse_rule
from cityhub.core.db import make_engine
from cityhub.gateway.sqlmask import masked
from cityhub.settings import Settings

RULES = ["keep:first6,last4", "keep:first3", "keep:last4", "name", "phone", "email", "hide"]
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=24,
)
EMAILS = st.builds(lambda a, b: f"{a}@{b}", TEXT, TEXT)


@pytest.fixture
def conn(settings: Settings) -> Iterator[Connection]:
    engine = make_engine(settings.effective_database_url)
    with engine.connect() as connection:
        yield connection
    engine.dispose()


def _sql(conn: Connection, values: list[str | None], rule: str) -> list[object]:
    """Masked by SQL, both ways of making stars (generated, and cut from a constant)."""
    parsed = parse_rule(rule)
    out = []
    for value in values:
        generated, sliced = conn.execute(
            select(
                masked(literal(value, String()), parsed),
                masked(literal(value, String()), parsed, width=64),
            )
        ).one()
        assert generated == sliced, (rule, value)
        out.append(generated)
    return out


def test_known_values(conn: Connection) -> None:
    values = ["371302198001011234", "张三", "欧阳娜娜", "13812345678", "zhang.san@example.cn"]
    values += ["", "x", None, "@nomailbox", "a@", "a@b\nc"]
    for rule in RULES:
        assert _sql(conn, values, rule) == mask_values(values, rule), rule
    assert _sql(conn, ["371302198001011234"], RULES[0]) == ["371302********1234"]


# The connection only reads: sharing it between examples is safe.
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.lists(st.one_of(TEXT, EMAILS, st.none()), min_size=1, max_size=8))
def test_any_text(conn: Connection, values: list[str | None]) -> None:
    for rule in RULES:
        assert _sql(conn, values, rule) == mask_values(values, rule), (rule, values)
