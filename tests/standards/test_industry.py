"""GB/T 4754-2017 industry classification: the shipped table and code checks."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityhub.standards import industry

# Section -> (first division, last division) in GB/T 4754-2017.
RANGES = {
    "A": (1, 5),
    "B": (6, 12),
    "C": (13, 43),
    "D": (44, 46),
    "E": (47, 50),
    "F": (51, 52),
    "G": (53, 60),
    "H": (61, 62),
    "I": (63, 65),
    "J": (66, 69),
    "K": (70, 70),
    "L": (71, 72),
    "M": (73, 75),
    "N": (76, 79),
    "O": (80, 82),
    "P": (83, 83),
    "Q": (84, 85),
    "R": (86, 90),
    "S": (91, 96),
    "T": (97, 97),
}


def test_table() -> None:
    sections = industry.sections()
    divisions = industry.divisions()
    assert list(sections) == list("ABCDEFGHIJKLMNOPQRST")
    assert sorted(divisions) == [f"{n:02d}" for n in range(1, 98)]
    for letter, (first, last) in RANGES.items():
        assert [c for c, (_, s) in divisions.items() if s == letter] == [
            f"{n:02d}" for n in range(first, last + 1)
        ]
    assert sections["C"] == "制造业"
    assert sections["I"] == "信息传输、软件和信息技术服务业"
    assert divisions["13"] == ("农副食品加工业", "C")
    assert divisions["65"] == ("软件和信息技术服务业", "I")
    assert divisions["97"] == ("国际组织", "T")


@pytest.mark.parametrize(
    ("code", "section", "name"),
    [
        ("C", "C", "制造业"),
        ("13", "C", "农副食品加工业"),
        ("C13", "C", "农副食品加工业"),
        ("131", "C", None),
        ("1311", "C", None),
        ("C1311", "C", None),
        ("01", "A", "农业"),
        ("A0111", "A", None),
        ("K70", "K", "房地产业"),
        ("S96", "S", "基层群众自治组织及其他组织"),
    ],
)
def test_valid(code: str, section: str, name: str | None) -> None:
    assert industry.is_valid(code)
    assert industry.section_of(code) == section
    assert industry.name(code) == name


@pytest.mark.parametrize(
    "code", ["U", "c", "00", "98", "A13", "C131111", "1", "C1", "13 ", "", "１３", "CC13"]
)
def test_invalid(code: str) -> None:
    assert not industry.is_valid(code)
    assert industry.section_of(code) is None
    assert industry.name(code) is None


def test_series() -> None:
    s = pl.Series("industry", ["C1311", "A13", None, "T"])
    assert industry.validate_series(s).to_list() == [True, False, False, True]
    sections = s.to_frame().select(industry.section_of_expr(pl.col("industry"))).to_series()
    assert sections.to_list() == ["C", None, None, "T"]


candidates = st.one_of(
    st.text("ACKTUc0123456789", max_size=6),
    st.text(max_size=6),
    st.none(),
)


@given(st.lists(candidates, max_size=40))
def test_vectorized_matches_scalar(values: list[str | None]) -> None:
    s = pl.Series("v", values, dtype=pl.String)
    assert industry.validate_series(s).to_list() == [
        v is not None and industry.is_valid(v) for v in values
    ]
    got = s.to_frame().select(industry.section_of_expr(pl.col("v"))).to_series().to_list()
    assert got == [None if v is None else industry.section_of(v) for v in values]
