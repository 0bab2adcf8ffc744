"""The resource code format (信息资源代码): parsing, checks against category and provider."""

from __future__ import annotations

import pytest

from cityhub.catalog import codes
from cityhub.catalog.vocab import Category


@pytest.mark.parametrize(
    ("code", "parts"),
    [
        ("101001-LYGA-000001", ("1", "01", "001", "", "LYGA", 1)),
        ("301002001-LYSTHJ-000012", ("3", "01", "002", "001", "LYSTHJ", 12)),
        ("212003-LYDSJ-999999", ("2", "12", "003", "", "LYDSJ", 999999)),
        ("599999-LY_X-1-000100", ("5", "99", "999", "", "LY_X-1", 100)),
    ],
)
def test_valid_codes_parse_into_their_parts(code: str, parts: tuple[object, ...]) -> None:
    parsed = codes.parse(code)
    assert (
        parsed.cls,
        parsed.subject,
        parsed.item,
        parsed.detail,
        parsed.provider,
        parsed.sequence,
    ) == parts
    assert str(parsed) == code


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("LYGA-000001", "is not a resource code"),
        ("101001/LYGA/000001", "is not a resource code"),
        ("101001-LYGA-1", "is not a resource code"),
        ("601001-LYGA-000001", "class (类) '6' is unknown"),
        ("100001-LYGA-000001", "subject (项) 00 is not allowed"),
        ("107001-LYGA-000001", "subject (项) '07' is not defined for class 1"),
        ("213001-LYGA-000001", "subject (项) '13' is not defined for class 2"),
        ("101000-LYGA-000001", "item (目) 000 is not allowed"),
        ("101001000-LYGA-000001", "detail (细目) 000 is not allowed"),
        ("101001-LYGA-000000", "the sequence number starts at 000001"),
        ("101001-" + "X" * 60 + "-000001", "at most 64 characters"),
    ],
)
def test_invalid_codes_say_what_is_wrong(code: str, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        codes.parse(code)
    assert reason in str(caught.value)


def test_a_code_must_agree_with_category_and_provider() -> None:
    assert codes.problems("101001-LYGA-000001", Category.basic, "LYGA") is None
    wrong_class = codes.problems("101001-LYGA-000001", Category.theme, "LYGA")
    assert wrong_class is not None and "must start with 2" in wrong_class
    wrong_provider = codes.problems("101001-LYGA-000001", Category.basic, "LYMZ")
    assert wrong_provider is not None and "names provider 'LYGA'" in wrong_provider
    department = codes.problems("317001-LYGA-000002", Category.department, "LYGA")
    assert department is None  # class 3 accepts any subject 01-99


def test_make_builds_and_checks_codes() -> None:
    assert codes.make(Category.topic, "03", "001", "LYSTHJ", 7) == "403001-LYSTHJ-000007"
    assert codes.make(Category.business, "02", "004", "LYDSJ", 1, "002") == (
        "502004002-LYDSJ-000001"
    )
    with pytest.raises(ValueError, match="subject"):
        codes.make(Category.basic, "09", "001", "LYGA", 1)
    assert codes.subject_label("101001-LYGA-000001") == ("人口", "Population")
    assert codes.subject_label("not a code") is None
