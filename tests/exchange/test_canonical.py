"""The fast lane of the checks (`canonical`): a row it takes must be one the full path
would store unchanged and refuse nothing of; every other row goes the full way and keeps
its exact values and reasons. The oracle is the full path itself (`checks._check_full`)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from types import SimpleNamespace

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from cityhub.exchange import canonical, checks
from cityhub.exchange.rules import ItemRule, Target
from cityhub.library import datastore as ds
from cityhub.standards import id_number, phone, regions

from .helpers import text_item

CITY, ZONE = "371300", "Asia/Shanghai"


ITEMS = (
    text_item("gmsfhm", ds.ColumnKind.string, 18),
    text_item("csrq", ds.ColumnKind.date),
    text_item("lxdh", ds.ColumnKind.string, 20),
    text_item("hjqh", ds.ColumnKind.string, 6),
    text_item("xm", ds.ColumnKind.string, 4),
    text_item("bz", ds.ColumnKind.text),
    text_item("xb", ds.ColumnKind.string, 1),
)
TARGET = Target(
    SimpleNamespace(items=ITEMS),  # type: ignore[arg-type]
    ("gmsfhm",),
    {
        "gmsfhm": ItemRule(required=True, check="id_number"),
        "lxdh": ItemRule(check="phone"),
        "hjqh": ItemRule(check="region", within="371300"),
        "xm": ItemRule(required=True),
        "xb": ItemRule(codes=("1", "2")),
    },
)


def _id(first17: str) -> str:
    return first17 + id_number.check_digit(first17)


def _key(n: int) -> str:
    """The n-th of distinct valid ID numbers."""
    born = date(1950, 1, 1) + timedelta(days=n // 10)
    return _id(f"371302{born:%Y%m%d}{n % 10:03d}")


GOOD: dict[str, str | None] = {
    "gmsfhm": _id("37130219900307120"),
    "csrq": "1990-03-07",
    "lxdh": "13812345678",
    "hjqh": "371302",
    "xm": "王丽",
    "bz": "备注",
    "xb": "1",
}
RIGHT = _id("37130219900307120")
WRONG = RIGHT[:17] + ("1" if RIGHT[-1] != "1" else "2")
# values that look canonical (or nearly) but are not all valid
ODD = {
    "gmsfhm": [
        WRONG,  # wrong check digit
        _id("00130219900307120"),  # no such province
        _id("37130218991231120"),  # born before 1900
        _id("37130230000101120"),  # born in the future
        _id("37130219000229120"),  # 1900 is no leap year
        _id("37130220000229120"),  # 2000 is
        _id("37130219900230120"),  # no 30 February
        _id("37130219901301120"),  # no 13th month
        _id("37130219900007120"),  # no month 0
        _id("37130219900300120"),  # no day 0
        "37130219900307123X",  # X where it is the check character? (it is not)
        _id("37130219900307123").lower(),  # x: upper-cased by the full path
        "3713021990030712:",
        "37130219900307120 ",
        " " + _id("37130219900307120"),
        "３７１３０２１９９００３０７１２０" + id_number.check_digit("37130219900307120"),
        "371302900307123",  # 15 digits: upgraded
        "1234567890123456789",
        "",
    ],
    "csrq": [
        "2020-02-29",
        "2021-02-29",
        "1900-02-29",
        "2000-02-29",
        "2020-13-01",
        "2020-00-10",
        "2020-01-00",
        "2020-01-32",
        "2020-04-31",
        "0999-12-31",
        "1000-01-01",
        "2999-12-31",
        "3000-01-01",
        "2020-1-01",
        "2020/01/01",
        "20200101",
        " 2020-01-01",
        "2020-01-01 ",
        "2020-01-0a",
        "２０２０-01-01",
        "2020年1月1日",
        "",
        "1969-12-31",
        "1970-01-01",
    ],
    "lxdh": [
        "14412345678",
        "14512345678",
        "16012345678",
        "17912345678",
        "19412345678",
        "1381234567",
        "138123456789",
        "+8613812345678",
        "138 1234 5678",
        "",
        "a3812345678",
    ],
    "hjqh": ["371399", "370000", "371300", "110101", "37130", "3713021", "兰山区", " 371302", ""],
    "xm": [
        "王丽王丽",
        "王丽王丽王",
        "",
        " 王丽",
        "王丽 ",
        "王\u3000丽",
        "王丽\u3000",
        "\u3000王丽",
        "Ａ丽",
        "王丽\u00a0",
        "\u00a0王丽",
        "王丽\u2003",
        "王丽\u205f",
        "丽\u1680",
        "王\n丽",
        "王丽\n",
        "王丽\t",
        "\ufeff王丽",
        "王丽\ufeff",
        "王\uff0c丽",
        "王\uffe5",
        "「王」",
        "《丽",
        "丽…",
        "王\u00b7丽",
        "\u00b7丽",
    ],
    "bz": ["", " x", "x ", "ＡＢ", "a\u3000b", "\u3000", "a\u00a0", "长" * 300],
    "xb": ["1", "2", "3", " 1", "１", "", "12"],
}


def _chunk(rows: list[dict[str, str | None]]) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema={c: pl.String for c in GOOD})
    return frame.with_row_index(checks.ROW, offset=1).with_columns(
        pl.col(checks.ROW).cast(pl.Int64)
    )


def _odd_rows() -> list[dict[str, str | None]]:
    rows: list[dict[str, str | None]] = [dict(GOOD)]
    for n, (column, values) in enumerate(ODD.items()):
        for m, value in enumerate([*values, None]):
            row: dict[str, str | None] = dict(GOOD)
            row["gmsfhm"] = _key(100 * n + m)  # each row its own key
            row[column] = value
            rows.append(row)
    return rows


def _assert_same(chunk: pl.DataFrame) -> checks.Checked:
    fast = checks.check_chunk(chunk, TARGET, city=CITY, zone=ZONE)
    full = checks._check_full(chunk, TARGET, city=CITY, zone=ZONE)
    assert_frame_equal(fast.upserts, full.upserts)
    assert_frame_equal(fast.rejected, full.rejected)
    assert_frame_equal(fast.deletes, full.deletes)
    assert fast.stats == full.stats
    assert fast.rows == full.rows == chunk.height
    return fast


@pytest.fixture(params=["compiled", "polars"])
def text_test(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The text lanes tested by the compiled scan, and by Polars without it."""
    if request.param == "polars":
        monkeypatch.setattr(canonical, "_textscan", None)
    elif canonical._textscan is None:
        pytest.skip("cityhub.exchange._textscan was not built (no C compiler at install)")
    return str(request.param)


def test_the_fast_lane_agrees_with_the_full_path_on_odd_values(text_test: str) -> None:
    result = _assert_same(_chunk(_odd_rows()))
    assert result.upserts.height and result.rejected.height


def test_a_canonical_looking_invalid_value_gets_its_exact_reason() -> None:
    rows = [dict(GOOD) for _ in range(3)]
    rows[1]["gmsfhm"] = WRONG
    rows[2]["gmsfhm"] = _id("37130219900307121")
    rows[2]["csrq"] = "2021-02-29"
    result = _assert_same(_chunk(rows))
    reasons = dict(result.rejected.select(checks.ROW, checks.REASONS).iter_rows())
    assert reasons == {
        2: f"gmsfhm: '{WRONG}' is not a valid citizen ID number (GB 11643)",
        3: "csrq: '2021-02-29' is not a valid date",
    }
    assert result.upserts.get_column(checks.ROW).to_list() == [1]
    assert result.upserts.get_column("csrq").to_list() == [date(1990, 3, 7)]


def test_clean_rows_take_the_fast_lane_alone() -> None:
    rows = [dict(GOOD) for _ in range(50)]
    for n, row in enumerate(rows):
        row["gmsfhm"] = _key(n)
        row["lxdh"] = None if n % 3 else row["lxdh"]
    chunk = _chunk(rows)
    lanes = checks._lanes(chunk, TARGET)
    assert lanes is not None
    fast = canonical.accepted(chunk, lanes, date.today())
    assert fast.mask.all() and not fast.failed
    result = _assert_same(chunk)
    assert result.upserts.height == 50 and result.stats["lxdh"].present == 17


@pytest.mark.parametrize("where", ["start", "end", "middle"])
def test_whitespace_and_full_width_never_slip_through(where: str, text_test: str) -> None:
    """Every character `std.text` trims or folds, at either end or inside a value."""
    chars = [chr(c) for c in range(0x3100)] + [chr(c) for c in range(0xFE00, 0x10000)]
    chars = [c for c in chars if not 0xD800 <= ord(c) <= 0xDFFF]
    rows = []
    for n, char in enumerate(chars):
        row: dict[str, str | None] = dict(GOOD)
        row["gmsfhm"] = _key(n)
        text = {"start": char + "丽", "end": "丽" + char, "middle": "丽" + char + "王"}[where]
        row["xm"] = text
        row["bz"] = text
        rows.append(row)
    _assert_same(_chunk(rows))


def test_random_id_numbers_and_dates_agree_with_the_standard() -> None:
    rng = random.Random(11643)
    today = date.today()
    ids, dates = [], []
    for _ in range(20_000):
        born = date(1890, 1, 1) + timedelta(days=rng.randrange(0, 60_000))
        province = rng.choice(["37", "11", "00", "99", "81"])
        first17 = f"{province}1302{born:%Y%m%d}{rng.randrange(1000):03d}"
        check = id_number.check_digit(first17) if rng.random() < 0.7 else rng.choice("0123456789Xx")
        value = first17 + check
        if rng.random() < 0.05:  # an impossible date in the middle
            value = value[:10] + f"{rng.randrange(100):02d}{rng.randrange(100):02d}" + value[14:]
        ids.append(value)
        dates.append(
            f"{rng.randrange(900, 3100):04d}-{rng.randrange(15):02d}-{rng.randrange(33):02d}"
        )
    matrix = pl.Series(ids).cast(pl.Binary).bin.reinterpret(dtype=pl.Array(pl.UInt8, 18))
    got = canonical.id_number_ok(matrix.to_numpy(), today)
    want = np.array([id_number.is_valid(v) and not v.endswith("x") for v in ids])
    assert (got == want).all() and want.sum() > 5_000
    matrix = pl.Series(dates).cast(pl.Binary).bin.reinterpret(dtype=pl.Array(pl.UInt8, 10))
    ok, days = canonical.iso_date(matrix.to_numpy())
    for value, good, day in zip(dates, ok, days, strict=True):
        try:
            real = date.fromisoformat(value)
        except ValueError:
            assert not good, value
            continue
        assert good == (1000 <= real.year <= 2999), value
        if good:
            assert date(1970, 1, 1) + timedelta(days=int(day)) == real


def test_random_mobile_numbers_agree_with_the_segment_regex() -> None:
    rng = random.Random(11)
    values = ["1" + "".join(rng.choice("0123456789") for _ in range(10)) for _ in range(5_000)]
    values += [rng.choice("1a ") + v[1:] for v in values[:500]] + ["1381234567a", "13８12345678"]
    values = [v for v in values if len(v.encode()) == 11]
    matrix = pl.Series(values).cast(pl.Binary).bin.reinterpret(dtype=pl.Array(pl.UInt8, 11))
    got = canonical.mobile_ok(matrix.to_numpy())
    want = pl.Series(values).str.contains(f"^{phone._SEGMENTS}$").to_numpy()
    assert (got == want).all() and 0 < want.sum() < len(values)


def test_lanes_leave_what_they_cannot_prove_to_the_full_path() -> None:
    phone_item, date_item = (
        text_item("lxdh", ds.ColumnKind.string, 8),
        text_item("d", ds.ColumnKind.date),
    )
    assert canonical.lane_of(phone_item, ItemRule(check="phone")) is None  # 11 > 8
    assert canonical.lane_of(date_item, ItemRule(min="2000-01-01")) is None
    assert canonical.lane_of(text_item("n", ds.ColumnKind.integer), ItemRule()) is None
    assert (
        canonical.lane_of(text_item("a", ds.ColumnKind.text), ItemRule(check="address")) is not None
    )
    rule = ItemRule(check="address", region_item="hjqh")
    assert canonical.lane_of(text_item("a", ds.ColumnKind.text), rule) is None
    chunk = _chunk([dict(GOOD)]).with_columns(pl.lit("delete").alias(checks.OP))
    assert checks._lanes(chunk, TARGET) is None  # deletions: the full way


def test_the_code_lists_behind_the_lanes_are_canonical() -> None:
    codes = [r.code for r in regions.all_regions()]
    assert all(len(c) == 6 and c.isascii() and c.isdigit() for c in codes)
    assert pl.Series(["13812345678"]).str.contains(f"^{phone._SEGMENTS}$").all()


def test_the_compiled_text_scan_equals_the_polars_test(monkeypatch: pytest.MonkeyPatch) -> None:
    if canonical._textscan is None:
        pytest.skip("cityhub.exchange._textscan was not built (no C compiler at install)")
    rng = random.Random(3000)
    pool = [" ", "\t", "\u3000", "\u00a0", "\u2028", "\u200b", "\u180e", "\ufeff", "！", "～"]
    pool += ["\uff00", "\uff5f", "\u3001", "a", "X", "临", "沂", "😀", "\u0085", "é"]
    values: list[str | None] = [
        "".join(rng.choices(pool, k=rng.randint(0, 14))) for _ in range(4000)
    ]
    values[::37] = [None] * len(values[::37])
    series = pl.Series("v", values, dtype=pl.String)
    parts = pl.concat([series.slice(3, 2000), series.slice(2003)], rechunk=False)
    for lane in (
        canonical.Lane("v", "text", False, 6, True),
        canonical.Lane("v", "text", False, None, False),
        canonical.Lane("v", "text", True, 1, True),
    ):
        compiled = canonical.scanned(lane, parts)
        assert compiled is not None
        col = pl.col("v")
        expected = canonical._plain(lane, col)
        if lane.fold:
            expected &= ~col.str.contains(canonical.std.FULL_WIDTH)
        want = parts.to_frame().select(expected.fill_null(False)).to_series().to_numpy()
        assert np.array_equal(compiled, want), lane
    with pytest.raises(ValueError, match="stream of strings"):
        canonical._textscan.scan(pl.Series([1]).__arrow_c_stream__())
