"""GB 32100-2015 unified social credit codes: known codes, the algorithm by hand, properties."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityhub.standards import credit_code
from cityhub.standards.regions import PROVINCE_PREFIXES

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
KNOWN_VALID = ["91350100M000100Y43", "91110000600037341L"]


def gb11714_by_hand(body8: str) -> str:
    weights = [3, 7, 9, 10, 5, 8, 4, 2]
    value = 11 - sum(int(c, 36) * w for c, w in zip(body8, weights, strict=True)) % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def gb32100_by_hand(first17: str) -> str:
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    value = 31 - sum(ALPHABET.index(c) * w for c, w in zip(first17, weights, strict=True)) % 31
    return ALPHABET[0 if value == 31 else value]


def test_constants() -> None:
    assert credit_code.ALPHABET == ALPHABET
    assert len(ALPHABET) == 31
    assert not set("IOZSV") & set(ALPHABET)
    assert credit_code.WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@pytest.mark.parametrize("code", KNOWN_VALID)
def test_known_codes(code: str) -> None:
    assert gb11714_by_hand(code[8:16]) == code[16]
    assert gb32100_by_hand(code[:17]) == code[17]
    assert credit_code.check_char(code[:17]) == code[17]
    assert credit_code.org_check_char(code[8:16]) == code[16]
    assert credit_code.explain(code) is None
    assert credit_code.is_valid(code)


def test_hand_sums() -> None:
    # 91350100M000100Y4: 9+3+27+135+26+21*20+8+30*30+4*28 = 1640 = 52*31 + 28 -> 31-28 = 3
    assert gb32100_by_hand("91350100M000100Y4") == "3"
    # M000100Y: 22*3 + 1*5 + 34*2 = 139 = 12*11 + 7 -> 11-7 = 4
    assert gb11714_by_hand("M000100Y") == "4"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("91350100M000100Y44", "check character should be 3"),
        ("91350100M000100Y53", "organization code check character should be 4"),
        ("91350100M000100Y4", "expected 18 characters, got 17"),
        ("91350100m000100Y43", "character 'm' at position 9 is not in the code alphabet"),
        ("9135010OM000100Y43", "character 'O' at position 8 is not in the code alphabet"),
        ("91350100M000100I43", "character 'I' at position 16 is not in the code alphabet"),
        ("01350100M000100Y43", "unknown registration authority code 0"),
        ("B1350100M000100Y43", "unknown registration authority code B"),
        ("90350100M000100Y43", "unknown organization type code 0"),
        ("9A350100M000100Y43", "unknown organization type code A"),
        ("913501A0M000100Y43", "region code (positions 3-8) must be digits"),
        ("91990100M000100Y43", "unknown province code 99 in region code"),
        ("91350100M000100YA3", "organization code check character should be 4"),
    ],
)
def test_invalid_examples(value: str, reason: str) -> None:
    assert credit_code.explain(value) == reason
    assert not credit_code.is_valid(value)


def test_not_a_string_and_bad_arguments() -> None:
    assert not credit_code.is_valid(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        credit_code.check_char("91350100M000100Y")
    with pytest.raises(ValueError):
        credit_code.check_char("91350100M000100I4")
    with pytest.raises(ValueError):
        credit_code.org_check_char("M000100")


def test_validate_series_examples() -> None:
    s = pl.Series("uscc", [*KNOWN_VALID, "91350100M000100Y44", None, "x"])
    out = credit_code.validate_series(s)
    assert out.name == "uscc"
    assert out.to_list() == [True, True, False, False, False]


def test_vectorized_rejects_18_bytes_that_are_not_18_characters() -> None:
    # The vectorized check views each value's 18 bytes; multi-byte text of that size must fail.
    values = ["六个汉字六个", "９" + KNOWN_VALID[0][3:]]
    assert [len(v.encode()) for v in values] == [18, 18]
    assert credit_code.validate_series(pl.Series(values)).to_list() == [False, False]


# -- properties -----------------------------------------------------------------------------

code_chars = st.sampled_from(ALPHABET)


@st.composite
def valid_codes(draw: st.DrawFn) -> str:
    head = draw(st.sampled_from("123456789ANY")) + draw(st.sampled_from("123456789"))
    region = draw(st.sampled_from(sorted(PROVINCE_PREFIXES | {"10"})))
    region += draw(st.text("0123456789", min_size=4, max_size=4))
    body = "".join(draw(st.lists(code_chars, min_size=8, max_size=8)))
    first17 = head + region + body + gb11714_by_hand(body)
    return first17 + gb32100_by_hand(first17)


@given(valid_codes())
def test_generated_codes_are_valid(code: str) -> None:
    assert credit_code.is_valid(code), credit_code.explain(code)


@given(valid_codes(), st.integers(0, 17), st.sampled_from(ALPHABET + "IOSVZ a-０"))
def test_any_single_change_is_caught(code: str, pos: int, char: str) -> None:
    if char == code[pos]:
        return
    assert not credit_code.is_valid(code[:pos] + char + code[pos + 1 :])


def _mutate(code: str, how: int) -> str:
    if how == 0:
        return code.lower()
    if how == 1:
        return code[:-1]
    if how == 2:
        return code + "0"
    if how == 3:
        return code[:17] + ALPHABET[(ALPHABET.index(code[17]) + 1) % 31]
    if how == 4:
        return code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    return code + "\n"


candidates = st.one_of(
    valid_codes(),
    st.builds(_mutate, valid_codes(), st.integers(0, 5)),
    st.text(ALPHABET + "IOZSVxy", min_size=17, max_size=19),
    st.text(max_size=20),
    st.none(),
)


@given(st.lists(candidates, max_size=40))
def test_vectorized_matches_scalar(values: list[str | None]) -> None:
    expected = [v is not None and credit_code.is_valid(v) for v in values]
    got = credit_code.validate_series(pl.Series(values, dtype=pl.String)).to_list()
    assert got == expected
