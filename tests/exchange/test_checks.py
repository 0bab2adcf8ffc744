"""Standardization and checks of one chunk (`checks.check_chunk`): values in their
canonical spelling take a fast path, every other spelling the full standardization; both
must give the same typed values and the same verdicts."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

import polars as pl
import pytest

from cityhub.exchange import checks
from cityhub.exchange import standardize as std
from cityhub.exchange.rules import ItemRule, Target
from cityhub.library import datastore as ds
from cityhub.standards import id_number

from .helpers import text_item

CITY, ZONE = "371300", "Asia/Shanghai"
ID17 = "37130219900307120"
ID = ID17 + id_number.check_digit(ID17)  # a valid number
ID_X17 = "37130219900307123"  # its check character is X
ID_X = ID_X17 + "X"
OLD = "371302900307123"  # 15 digits: upgraded to 18
REJECT = object()


ITEMS = (
    text_item("gmsfhm", ds.ColumnKind.string, 18),
    text_item("csrq", ds.ColumnKind.date),
    text_item("lxdh", ds.ColumnKind.string, 20),
    text_item("hjqh", ds.ColumnKind.string, 6),
    text_item("xm", ds.ColumnKind.string, 8),
)
TARGET = Target(
    SimpleNamespace(items=ITEMS),  # type: ignore[arg-type]
    ("gmsfhm",),
    {
        "gmsfhm": ItemRule(required=True, check="id_number"),
        "lxdh": ItemRule(check="phone"),
        "hjqh": ItemRule(check="region"),
    },
)
GOOD = {"gmsfhm": ID, "csrq": "1990-03-07", "lxdh": "13812345678", "hjqh": "371302", "xm": "王丽"}

# (column, delivered text, stored value or REJECT)
CASES: list[tuple[str, Any, Any]] = [
    ("gmsfhm", ID, ID),
    ("gmsfhm", f"  {ID}\t", ID),
    ("gmsfhm", ID_X17 + "x", ID_X),
    ("gmsfhm", "".join(chr(ord(c) + 0xFEE0) for c in ID), ID),  # full-width digits
    ("gmsfhm", OLD, id_number.upgrade_15_to_18(OLD)),
    ("gmsfhm", ID17 + ("1" if ID[-1] != "1" else "2"), REJECT),  # wrong check digit
    ("gmsfhm", "   ", REJECT),  # blank: required
    ("csrq", "1990-03-07", date(1990, 3, 7)),
    ("csrq", " 1990-03-07 ", date(1990, 3, 7)),
    ("csrq", "1990/3/7", date(1990, 3, 7)),
    ("csrq", "1990年3月7日", date(1990, 3, 7)),
    ("csrq", "19900307", date(1990, 3, 7)),
    ("csrq", "１９９０-03-07", date(1990, 3, 7)),
    ("csrq", "1990-02-30", REJECT),
    ("csrq", "", None),
    ("lxdh", "13812345678", "13812345678"),
    ("lxdh", "+86 138-1234-5678", "13812345678"),
    ("lxdh", " 13812345678", "13812345678"),
    ("lxdh", "12812345678", REJECT),
    ("hjqh", "371302", "371302"),
    ("hjqh", " 371302 ", "371302"),
    ("hjqh", "兰山区", "371302"),
    ("hjqh", "临沂市兰山区", "371302"),
    ("hjqh", "３７１３０２", "371302"),
    ("hjqh", "999999", REJECT),
    ("xm", " 王丽 ", "王丽"),
    ("xm", "ＡＢＣ", "ABC"),
    ("xm", "王丽王丽王丽王丽王", REJECT),  # 9 characters, 8 allowed
]


def _chunk() -> pl.DataFrame:
    rows = []
    for n, (column, raw, _) in enumerate(CASES):
        row = dict(GOOD)
        # each row its own key, so that only the value under test can refuse it
        if column != "gmsfhm":
            first17 = f"37130219900307{n:03d}"
            row["gmsfhm"] = first17 + id_number.check_digit(first17)
        row[column] = raw
        rows.append(row)
    frame = pl.DataFrame(rows, schema={c: pl.String for c in GOOD})
    return frame.with_row_index(checks.ROW, offset=1).with_columns(
        pl.col(checks.ROW).cast(pl.Int64)
    )


@pytest.mark.parametrize("clean_columns", [False, True])
def test_each_spelling_is_stored_standardized_or_refused(clean_columns: bool) -> None:
    chunk = _chunk()
    if clean_columns:  # only the canonical spellings: the fast path alone
        keep = [n for n, (_, raw, want) in enumerate(CASES) if want is not REJECT and raw == want]
        chunk = chunk[keep]
    result = checks.check_chunk(chunk, TARGET, city=CITY, zone=ZONE)
    stored = {row[checks.ROW]: row for row in result.upserts.to_dicts()}
    refused = set(result.rejected.get_column(checks.ROW).to_list())
    for row in chunk.get_column(checks.ROW).to_list():
        column, raw, want = CASES[row - 1]
        if want is REJECT:
            assert row in refused and row not in stored, (column, raw)
        else:
            assert row in stored and stored[row][column] == want, (column, raw, stored.get(row))
    assert result.rows == chunk.height


def test_fast_and_full_standardization_agree_on_every_value() -> None:
    chunk = _chunk()
    result = checks.check_chunk(chunk, TARGET, city=CITY, zone=ZONE)
    for item in ITEMS:
        full = chunk.select(
            checks.ROW,
            checks._typed(item, std.text(item.code), TARGET.rule(item.code), ZONE, CITY).alias("v"),
        )
        got = result.upserts.select(checks.ROW, item.code).join(full, on=checks.ROW)
        assert got.height == result.upserts.height
        assert got.get_column(item.code).equals(got.get_column("v"), check_names=False), item.code


def test_key_pass_types_keys_like_the_checks() -> None:
    chunk = _chunk()
    item, rule = ITEMS[0], TARGET.rule("gmsfhm")
    keys = checks.typed_column(chunk, item, rule, city=CITY, zone=ZONE)
    full = chunk.select(checks._typed(item, std.text("gmsfhm"), rule, ZONE, CITY)).to_series()
    assert keys.equals(full, check_names=False)
    assert keys[1] == ID and keys[2] == ID_X and keys[4] == id_number.upgrade_15_to_18(OLD)
