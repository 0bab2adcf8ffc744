"""Masking rules: the vocabulary, vectorized over Polars, and precise refusals."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from cityhub.catalog.masking import (
    MaskRule,
    is_valid_rule,
    mask_expr,
    mask_frame,
    mask_lazy,
    mask_value,
    mask_values,
    parse_rule,
)


@pytest.mark.parametrize(
    ("rule", "value", "masked"),
    [
        ("keep:first6,last4", "371302198001011234", "371302********1234"),
        ("keep:first6,last4", "3713021980", "**********"),  # too short to keep anything
        ("keep:first3", "临沂市兰山区金雀山路", "临沂市*******"),
        ("keep:last4", "6222020200112233", "************2233"),
        ("name", "张三", "张*"),
        ("name", "欧阳娜娜", "欧***"),
        ("name", "李", "*"),
        ("phone", "13812345678", "138****5678"),
        ("phone", "0539-8123456", "053*****3456"),
        ("email", "zhang.san@example.cn", "z***@example.cn"),
        ("email", "not-an-email", "************"),
        ("hide", "anything", None),
    ],
)
def test_rules_mask_values(rule: str, value: str, masked: str | None) -> None:
    assert mask_value(value, rule) == masked


def test_nulls_stay_null_and_non_text_columns_are_masked_as_text() -> None:
    assert mask_values([None, "张三"], "name") == [None, "张*"]
    assert mask_values([19800101, None], "keep:first4") == ["1980****", None]
    assert mask_values([date(1980, 1, 1)], "keep:first4") == ["1980******"]


def test_mask_frame_is_vectorized_and_touches_only_ruled_columns() -> None:
    n = 100_000
    frame = pl.DataFrame(
        {
            "gmsfhm": ["371302198001011234"] * n,
            "xm": ["王小明"] * n,
            "lxdh": ["13912345678"] * n,
            "age": list(range(n)),
            "city": ["临沂"] * n,
        }
    )
    rules = {"gmsfhm": "keep:first6,last4", "xm": "name", "lxdh": "phone", "age": "hide"}
    masked = mask_frame(frame, {**rules, "missing": "hide", "city": ""})
    assert masked.columns == frame.columns
    assert masked.height == n
    assert masked["gmsfhm"].unique().to_list() == ["371302********1234"]
    assert masked["xm"].unique().to_list() == ["王**"]
    assert masked["lxdh"].unique().to_list() == ["139****5678"]
    assert masked["age"].null_count() == n
    assert masked["age"].dtype == pl.Int64  # hide keeps the column's type
    assert masked["city"].to_list() == frame["city"].to_list()


def test_mask_lazy_matches_mask_frame() -> None:
    frame = pl.DataFrame({"xm": ["张三", None, "司马相如"], "id": ["1", "2", "3"]})
    rules = {"xm": "name"}
    assert mask_lazy(frame.lazy(), rules).collect().equals(mask_frame(frame, rules))


def test_mask_expr_works_on_expressions_too() -> None:
    frame = pl.DataFrame({"a": ["13812345678"]})
    out = frame.select(mask_expr(pl.col("a"), "phone").alias("b"))
    assert out["b"].to_list() == ["138****5678"]


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        ("blur", "unknown masking rule 'blur'"),
        ("keep:", "unknown masking rule"),
        ("keep:middle3", "'middle3' is not firstN or lastM"),
        ("keep:first3,first4", "names first twice"),
        ("keep:first0", "keep between 1 and 64"),
        ("keep:last65", "keep between 1 and 64"),
    ],
)
def test_bad_rules_are_refused_precisely(rule: str, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_rule(rule)
    assert reason in str(caught.value)
    assert not is_valid_rule(rule)


def test_rules_have_a_canonical_form() -> None:
    assert parse_rule("phone") == MaskRule("keep", 3, 4)
    assert str(parse_rule("keep:last4,first6")) == "keep:first6,last4"
    assert str(parse_rule(" name ")) == "name"
