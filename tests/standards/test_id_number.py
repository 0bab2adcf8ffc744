"""GB 11643-1999 ID numbers: known examples, the algorithm by hand, and properties."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityhub.standards import id_number
from cityhub.standards.regions import PROVINCE_PREFIXES

CLASSIC = "11010519491231002X"  # the standard's own example


def by_hand(first17: str) -> str:
    """MOD 11-2 written out independently of the module."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(first17, weights, strict=True))
    return "10X98765432"[total % 11]


def test_weights_are_powers_of_two_mod_11() -> None:
    assert id_number.WEIGHTS == (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def test_classic_example() -> None:
    assert by_hand(CLASSIC[:17]) == "X"
    assert id_number.check_digit(CLASSIC[:17]) == "X"
    assert id_number.is_valid(CLASSIC)
    assert id_number.is_valid(CLASSIC.lower())
    assert id_number.explain(CLASSIC) is None
    assert id_number.birth_date(CLASSIC) == date(1949, 12, 31)
    assert id_number.gender(CLASSIC) == "F"  # sequence 002 is even


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("110105194912310021", "check digit should be X"),
        ("11010519491231002", "expected 18 characters, got 17"),
        ("11010519491231002X1", "expected 18 characters, got 19"),
        ("", "expected 18 characters, got 0"),
        ("1101051949123100XX", "expected 17 ASCII digits then a digit or X"),
        ("１１010519491231002X", "expected 17 ASCII digits then a digit or X"),
        ("11010519491231002Y", "expected 17 ASCII digits then a digit or X"),
        (" 1010519491231002X", "expected 17 ASCII digits then a digit or X"),
        ("99010519491231002X", "unknown province code 99"),
        ("10010519491231002X", "unknown province code 10"),
        ("11010519490230002X", "no such birth date 19490230"),
        ("11010519491301002X", "no such birth date 19491301"),
        ("11010519490000002X", "no such birth date 19490000"),
        ("11010518991231002X", "birth date before 1900"),
        ("11010599991231002X", "birth date in the future"),
    ],
)
def test_invalid_examples(value: str, reason: str) -> None:
    assert id_number.explain(value) == reason
    assert not id_number.is_valid(value)


def test_leap_days() -> None:
    for first17 in ("11010520000229001", "11010519960229001"):
        assert id_number.is_valid(first17 + by_hand(first17))
    for first17 in ("11010519000229001", "11010519970229001"):  # 1900 is not a leap year
        assert id_number.explain(first17 + by_hand(first17)) == (
            f"no such birth date {first17[6:14]}"
        )


def test_not_a_string() -> None:
    assert id_number.explain(None) == "not a string"  # type: ignore[arg-type]
    assert not id_number.is_valid(110105194912310021)  # type: ignore[arg-type]


def test_upgrade_15_to_18() -> None:
    assert id_number.upgrade_15_to_18("110105491231002") == CLASSIC
    assert id_number.birth_date("110105491231002") == date(1949, 12, 31)
    assert id_number.gender("110105491231001") == "M"
    for bad in ("11010549123100", "1101054912310021", "11010549123100X", "110105490230002"):
        with pytest.raises(ValueError):
            id_number.upgrade_15_to_18(bad)


def test_accessors_reject_invalid() -> None:
    with pytest.raises(ValueError, match="check digit should be X"):
        id_number.birth_date("110105194912310021")
    with pytest.raises(ValueError):
        id_number.gender("nonsense")
    with pytest.raises(ValueError):
        id_number.check_digit("1101051949123100")
    with pytest.raises(ValueError):
        id_number.check_digit("1101051949123100a")


def test_validate_series_examples() -> None:
    s = pl.Series("id", [CLASSIC, CLASSIC.lower(), "110105194912310021", None, ""])
    out = id_number.validate_series(s)
    assert out.name == "id"
    assert out.dtype == pl.Boolean
    assert out.to_list() == [True, True, False, False, False]
    assert id_number.validate_series(pl.Series([None, None])).to_list() == [False, False]


def test_expression_respects_today() -> None:
    born = "110105" + "20240615" + "001"
    value = born + by_hand(born)
    frame = pl.DataFrame({"id": [value]})
    before = id_number.is_valid_expr(pl.col("id"), today=date(2024, 6, 14))
    on_day = id_number.is_valid_expr(pl.col("id"), today=date(2024, 6, 15))
    assert frame.select(before).item() is False
    assert frame.select(on_day).item() is True


def test_vectorized_dates_match_calendar() -> None:
    """Every YYYYMMDD with month 00-13 and day 00-32 over 1899-2031, with a correct check."""
    values = []
    for year in range(1899, 2032):
        for month in range(14):
            for day in range(33):
                first17 = f"371302{year:04d}{month:02d}{day:02d}001"
                values.append(first17 + by_hand(first17))
    expected = [id_number.is_valid(v) for v in values]
    assert sum(expected) > 40_000
    assert id_number.validate_series(pl.Series(values)).to_list() == expected


# -- properties -----------------------------------------------------------------------------

regions = st.builds(
    lambda p, rest: p + rest,
    st.sampled_from(sorted(PROVINCE_PREFIXES)),
    st.text("0123456789", min_size=4, max_size=4),
)
births = st.dates(min_value=date(1900, 1, 1), max_value=date.today())
sequences = st.integers(0, 999).map(lambda n: f"{n:03d}")


@st.composite
def valid_ids(draw: st.DrawFn) -> str:
    first17 = draw(regions) + draw(births).strftime("%Y%m%d") + draw(sequences)
    check = by_hand(first17)
    return first17 + (check.lower() if draw(st.booleans()) else check)


@given(valid_ids())
def test_generated_ids_are_valid(value: str) -> None:
    assert id_number.is_valid(value), id_number.explain(value)
    assert id_number.check_digit(value[:17]) == value[17].upper()


@given(valid_ids(), st.integers(0, 17), st.sampled_from("0123456789Xx a１"))
def test_any_single_change_is_caught(value: str, pos: int, char: str) -> None:
    if char.upper() == value[pos].upper():
        return  # not a change (x and X are the same check character)
    changed = value[:pos] + char + value[pos + 1 :]
    assert not id_number.is_valid(changed)


def _mutate(value: str, how: int) -> str:
    """Near-misses a validator is most likely to get wrong."""
    if how == 0:
        return value[:-1]
    if how == 1:
        return value + "0"
    if how == 2:
        return value.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    if how == 3:
        return value[:6] + "1899" + value[10:]
    if how == 4:
        return f" {value}"
    if how == 5:
        return value + "\n"
    return value[:17] + "0123456789X"[(int(value[16]) + how) % 11]


candidates = st.one_of(
    valid_ids(),
    st.builds(_mutate, valid_ids(), st.integers(0, 8)),
    st.text("0123456789Xx", min_size=17, max_size=19),
    st.text(max_size=20),
    st.none(),
)


@given(st.lists(candidates, max_size=40))
def test_vectorized_matches_scalar(values: list[str | None]) -> None:
    expected = [v is not None and id_number.is_valid(v) for v in values]
    got = id_number.validate_series(pl.Series(values, dtype=pl.String)).to_list()
    assert got == expected


@given(births)
def test_birth_date_round_trip(born: date) -> None:
    first17 = "371302" + born.strftime("%Y%m%d") + "123"
    assert id_number.birth_date(first17 + by_hand(first17)) == born
    assert id_number.gender(first17 + by_hand(first17)) == "M"


def test_tomorrow_is_in_the_future() -> None:
    first17 = "371302" + (date.today() + timedelta(days=1)).strftime("%Y%m%d") + "001"
    value = first17 + by_hand(first17)
    assert id_number.explain(value) == "birth date in the future"
    assert id_number.validate_series(pl.Series([value])).to_list() == [False]
