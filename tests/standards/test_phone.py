"""Mainland China mobile numbers: segments, normalization, vectorized == scalar."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityhub.standards import phone


@pytest.mark.parametrize(
    ("value", "normalized"),
    [
        ("13800138000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("+86-138-0013-8000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("86 13800138000", "13800138000"),
        ("\t139-1234-5678 ", "13912345678"),
        ("14512345678", "14512345678"),
        ("16212345678", "16212345678"),
        ("17812345678", "17812345678"),
        ("19912345678", "19912345678"),
    ],
)
def test_valid(value: str, normalized: str) -> None:
    assert phone.normalize(value) == normalized
    assert phone.is_valid(value)


@pytest.mark.parametrize(
    "value",
    [
        "12012345678",  # no 12x mobile segment
        "14412345678",
        "15412345678",
        "16012345678",
        "16812345678",
        "17912345678",
        "19412345678",
        "1380013800",  # 10 digits
        "138001380000",  # 12 digits
        "+8613800138000x",
        "+86+13800138000",
        "0086 138 0013 8000",  # only "+86" and "86" are accepted prefixes
        "(+86)13800138000",
        "１３800138000",  # full-width digits
        "13800138000\n",
        "",
    ],
)
def test_invalid(value: str) -> None:
    assert phone.normalize(value) is None
    assert not phone.is_valid(value)


def test_not_a_string() -> None:
    assert phone.normalize(13800138000) is None  # type: ignore[arg-type]


def test_series() -> None:
    s = pl.Series("tel", ["+86 138 0013 8000", "12012345678", None])
    assert phone.validate_series(s).to_list() == [True, False, False]
    assert phone.validate_series(s).name == "tel"
    normalized = s.to_frame().select(phone.normalize_expr(pl.col("tel"))).to_series()
    assert normalized.to_list() == ["13800138000", None, None]


# -- properties -----------------------------------------------------------------------------

segments = st.sampled_from(
    [f"13{d}" for d in "0123456789"]
    + [f"14{d}" for d in "56789"]
    + [f"15{d}" for d in "012356789"]
    + [f"16{d}" for d in "2567"]
    + [f"17{d}" for d in "012345678"]
    + [f"18{d}" for d in "0123456789"]
    + [f"19{d}" for d in "012356789"]
)
numbers = st.builds(str.__add__, segments, st.text("0123456789", min_size=8, max_size=8))


@given(numbers, st.sampled_from(["", "+86", "86", "+86 ", "86-"]), st.lists(st.integers(0, 13)))
def test_decorated_numbers_normalize(number: str, prefix: str, cuts: list[int]) -> None:
    decorated = number
    for cut in sorted(set(cuts), reverse=True):
        decorated = decorated[:cut] + "-" + decorated[cut:]
    assert phone.normalize(prefix + decorated) == number


candidates = st.one_of(
    numbers,
    st.builds(str.__add__, st.sampled_from(["+86", "86", "0086", "+", "8"]), numbers),
    st.text("0123456789+86 -\t１x", max_size=16),
    st.text(max_size=16),
    st.none(),
)


@given(st.lists(candidates, max_size=40))
def test_vectorized_matches_scalar(values: list[str | None]) -> None:
    s = pl.Series("v", values, dtype=pl.String)
    assert phone.validate_series(s).to_list() == [
        v is not None and phone.is_valid(v) for v in values
    ]
    normalized = s.to_frame().select(phone.normalize_expr(pl.col("v"))).to_series()
    assert normalized.to_list() == [None if v is None else phone.normalize(v) for v in values]
