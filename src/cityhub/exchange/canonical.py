"""The fast lane of the checks: rows whose every delivered value is already in canonical
spelling and passes its item's checks, proven in about one pass per column.

`checks.check_chunk` standardizes, types and checks every value the full way: three or
more Polars string operations per column (probe, type, check), each 3-10 ms per 200,000
values. Nearly every row of a real delivery needs none of it: its ID number is 18 ASCII
characters with a good check digit, its date is YYYY-MM-DD, its name has nothing to trim.
`accepted` proves that per row, with one fused test per column:

- ID numbers and dates: the 18 (10) bytes of each value as a matrix; shape, province,
  calendar date, birth-date bounds and the MOD 11-2 check digit in integer arithmetic
  (NumPy), without parsing any text; a date's value is computed the same way;
- mobile numbers: 11 digits, 1 and an allocated segment (a table read off the segment
  regex), the same way;
- region codes: membership in the code list (a member is six ASCII digits);
- other text: non-empty, nothing to trim (`strip_chars` keeps the length), the length
  rule, code list and pattern, no full-width character to fold; in one pass over each
  value's bytes (`_textscan`, compiled, reads Polars' strings in place) or, without it,
  in Polars (full-width characters probed once per column over the joined bytes: they
  start with 0xEF, or are U+3000; per row only where found).

A row is taken only when the test proves that the full path would store exactly the
delivered text (or the computed date) and refuse nothing; every other row, valid or not,
goes the full way (`checks`), which gives it its value and its exact reasons. The fast
lane may leave a good row to the full path (a value with 'x', a date before 1000), never
take one the full path would change or refuse.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from functools import cache

import numpy as np
import polars as pl

from cityhub.exchange import standardize as std
from cityhub.exchange.rules import ItemRule
from cityhub.gateway.resources import ItemInfo
from cityhub.library import datastore as ds
from cityhub.standards import id_number, phone, regions

try:
    from cityhub.exchange import _textscan
except ImportError:  # not built (no C compiler at install time): Polars below
    _textscan = None  # type: ignore[assignment]

_ID_WEIGHTS = np.array(id_number.WEIGHTS, dtype=np.int16)
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int32)
_EARLIEST_BIRTH = 19000101  # GB 11643 birth dates from 1900-01-01 (`id_number._EARLIEST`)
_FULL_WIDTH_LEAD = b"\xef"  # U+F000..U+FFFF, the full-width forms U+FF01..U+FF5E among them
_IDEOGRAPHIC_SPACE = "\u3000".encode()
_SCANS = ThreadPoolExecutor(2, thread_name_prefix="cityhub-scan")
_CHARS, _EDGE_SPACE, _FULL_WIDTH = np.uint32(0x0FFFFFFF), np.uint32(1 << 29), np.uint32(1 << 30)


@cache
def _region_codes(within: str) -> pl.Series:
    """The listed codes (under `within`, as `checks._within` bounds them)."""
    if within.endswith("0000"):
        prefix = within[:2]
    elif within.endswith("00"):
        prefix = within[:4]
    else:
        prefix = within
    codes = sorted(r.code for r in regions.all_regions() if r.code.startswith(prefix))
    return pl.Series("code", codes, dtype=pl.String)


@dataclass(frozen=True)
class Lane:
    """How one delivered item is proven canonical and valid in one pass."""

    code: str
    how: str  # id_number, date, phone, region, text
    required: bool
    length: int | None = None  # text: the length rule (characters)
    fold: bool = False  # text: full-width characters would be folded
    codes: tuple[str, ...] = ()
    pattern: str = ""
    within: str = ""


def lane_of(item: ItemInfo, rule: ItemRule) -> Lane | None:
    """The fast test of an item, or None: its rows always go the full way (then the whole
    chunk does, as before)."""
    kind, check = item.kind, rule.check
    if kind is ds.ColumnKind.date:
        if check or rule.codes or rule.pattern or rule.min is not None or rule.max is not None:
            return None
        return Lane(item.code, "date", rule.required)
    if kind not in (ds.ColumnKind.string, ds.ColumnKind.text):
        return None
    if rule.min is not None or rule.max is not None:
        return None
    length = item.length if kind is ds.ColumnKind.string and item.length else None
    if check in ("", "address") and not rule.region_item:
        return Lane(
            item.code, "text", rule.required, length, kind is ds.ColumnKind.string,
            rule.codes, rule.pattern,
        )  # fmt: skip
    if rule.codes or rule.pattern:
        return None
    width = {"id_number": 18, "phone": 11, "region": 6}.get(check)
    if width is None or (length is not None and length < width):
        return None  # a length rule shorter than the canonical value: refused anyway
    return Lane(item.code, check, rule.required, within=rule.within)


# -- the tests ---------------------------------------------------------------------------


def fixed_bytes(expr: pl.Expr, width: int) -> pl.Expr:
    """Each value as `width` bytes (a placeholder of zero bytes where it is not exactly
    that long or null: the tests refuse it)."""
    padded = pl.when(expr.str.len_bytes() == width).then(expr).otherwise(pl.lit("\0" * width))
    return padded.cast(pl.Binary).bin.reinterpret(dtype=pl.Array(pl.UInt8, width))


def _rows(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the bytes by position, each minus '0': digits are 0-9, anything else above 9)."""
    rows = np.ascontiguousarray(matrix.T)
    return rows, rows - np.uint8(ord("0"))  # bytes below '0' wrap around


def _number(d: np.ndarray, positions: range) -> np.ndarray:
    """The decimal number of those digit rows, as int32."""
    out = np.zeros(d.shape[1], dtype=np.int32)
    for i in positions:
        out *= 10
        out += d[i]
    return out


def _calendar(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """A real day (digits only: y, m and d are below 10,000, 100 and 100)."""
    last = _DAYS_IN_MONTH[np.minimum(m, 12)] + (m == 2)
    ok: np.ndarray = (m >= 1) & (m <= 12) & (d >= 1) & (d <= last)
    feb29 = np.flatnonzero(ok & (m == 2) & (d == 29))  # few: the leap-year test for them only
    if feb29.size:
        year = y[feb29]
        ok[feb29] = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    return ok


@cache
def _mobile_segments() -> np.ndarray:
    """Second and third digit (0-255 each, digits 0-9) → an allocated mobile segment,
    read off the segment regex itself."""
    table = np.zeros(256 * 11, dtype=bool)
    for n in range(100):
        table[n] = re.fullmatch(phone._SEGMENTS, f"1{n:02d}00000000") is not None
    return table


def mobile_ok(matrix: np.ndarray) -> np.ndarray:
    """`^<segments>$` on an (n, 11) byte matrix: 11 digits, 1 then an allocated segment."""
    raw, d = _rows(matrix)
    ok: np.ndarray = (d.max(axis=0) <= 9) & (raw[0] == ord("1"))
    ok &= _mobile_segments()[d[1].astype(np.int16) * 10 + d[2]]
    return ok


@cache
def _province_lookup() -> np.ndarray:
    """Two digit values (0-255 each, digits 0-9) → a GB/T 2260 province prefix."""
    table = np.zeros(256 * 11, dtype=bool)
    for prefix in regions.PROVINCE_PREFIXES:
        table[int(prefix)] = True
    return table


def id_number_ok(matrix: np.ndarray, today: date) -> np.ndarray:
    """GB 11643 on an (n, 18) byte matrix, as `id_number.is_valid` with an uppercase X
    only (the canonical spelling; 'x' is upper-cased by the full path)."""
    raw, d = _rows(matrix)
    x = raw[17] == ord("X")
    ok: np.ndarray = (d[:17].max(axis=0) <= 9) & ((d[17] <= 9) | x)
    # ISO 7064 MOD 11-2: weighted sum + check value = 1 (mod 11); X is 10
    total = np.where(x, np.int16(10), d[17].astype(np.int16))
    for i, weight in enumerate(_ID_WEIGHTS):
        total += weight * d[i]  # small: no overflow for digits
    ok &= total % 11 == 1
    ok &= _province_lookup()[d[0].astype(np.int16) * 10 + d[1]]
    y, m, day = _number(d, range(6, 10)), _number(d, range(10, 12)), _number(d, range(12, 14))
    born = _number(d, range(6, 14))
    today_int = today.year * 10000 + today.month * 100 + today.day
    ok &= (born >= _EARLIEST_BIRTH) & (born <= today_int) & _calendar(y, m, day)
    return ok


@cache
def _years() -> tuple[np.ndarray, np.ndarray]:
    """For the years 1000-2999 (the fast lane's): days from 1970-01-01 to 1 January, and
    whether the year is a leap year."""
    epoch = date(1970, 1, 1).toordinal()
    starts = [date(y, 1, 1).toordinal() - epoch for y in range(1000, 3000)]
    leap = [date(y, 12, 31).timetuple().tm_yday == 366 for y in range(1000, 3000)]
    return np.array(starts, dtype=np.int32), np.array(leap, dtype=bool)


_MONTH_STARTS = np.concatenate(([0, 0], np.cumsum(_DAYS_IN_MONTH[1:12]))).astype(np.int32)


def iso_date(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """YYYY-MM-DD on an (n, 10) byte matrix: (a real date of the years 1000-2999, its
    days since 1970-01-01)."""
    raw, d = _rows(matrix)
    ok = d[[0, 1, 2, 3, 5, 6, 8, 9]].max(axis=0) <= 9
    ok &= (raw[4] == ord("-")) & (raw[7] == ord("-"))
    y, m, day = _number(d, range(4)), _number(d, range(5, 7)), _number(d, range(8, 10))
    ok &= (y >= 1000) & (y <= 2999) & _calendar(y, m, day)
    year = np.where(ok, y - 1000, 0)
    month = np.where(ok, m, 1)
    starts, leap = _years()
    days = starts[year] + _MONTH_STARTS[month] + (leap[year] & (month > 2)) + day - 1
    return ok, days.astype(np.int32)


def _plain(lane: Lane, col: pl.Expr) -> pl.Expr:
    """Per row: `std.text` would keep the value (not empty, nothing to trim; full-width
    characters are probed per column), and the length rule, code list and pattern hold."""
    size = col.str.len_bytes()
    ok = (size > 0) & (col.str.strip_chars().str.len_bytes() == size)
    if lane.length is not None:
        ok &= col.str.len_chars() <= lane.length
    if lane.codes:
        ok &= col.is_in(list(lane.codes))
    if lane.pattern:
        ok &= col.str.contains(f"^(?:{lane.pattern})$")
    return ok


def scanned(lane: Lane, values: pl.Series) -> np.ndarray | None:
    """`_plain` in one compiled pass (nulls False), where it applies: None without the
    compiled scan, or for a code list or pattern (tested in Polars)."""
    if _textscan is None or lane.codes or lane.pattern:
        return None
    parts = _textscan.scan(values.__arrow_c_stream__())
    flags = np.frombuffer(b"".join(parts), dtype=np.uint32)
    chars = flags & _CHARS
    ok: np.ndarray = (chars > 0) & (flags & _EDGE_SPACE == 0)
    if lane.length is not None:
        ok &= chars <= lane.length
    if lane.fold:
        ok &= flags & _FULL_WIDTH == 0
    return ok


def _any_full_width(col: pl.Expr) -> pl.Expr:
    """Whether some value may have a full-width character: two byte searches over the
    joined column (far cheaper than a regex per value). Every full-width form
    U+FF01..U+FF5E starts with the byte EF (so does the rest of U+F000..U+FFFF: then the
    exact per-row test finds the rows)."""
    joined = col.str.join("\n").cast(pl.Binary)
    return joined.bin.contains(_FULL_WIDTH_LEAD) | joined.bin.contains(_IDEOGRAPHIC_SPACE)


@dataclass
class Accepted:
    """The rows the fast lane takes (`mask`), the values of its computed items, and the
    items some row failed the test of (only those can refuse a row the lane leaves)."""

    mask: np.ndarray
    values: dict[str, pl.Series]
    failed: list[str]


def accepted(chunk: pl.DataFrame, lanes: list[Lane], today: date) -> Accepted:
    """Prove each row canonical and valid in one pass per column (the columns in one
    `select`, so Polars runs them in parallel)."""
    exprs: list[pl.Expr] = []
    # the compiled scans release the GIL: two columns at a time
    texts = [lane for lane in lanes if lane.how == "text"]
    scans = _SCANS.map(lambda lane: scanned(lane, chunk.get_column(lane.code)), texts)
    compiled = {lane.code: ok for lane, ok in zip(texts, scans, strict=True) if ok is not None}
    folded = [
        lane.code
        for lane in lanes
        if lane.how == "text" and lane.fold and lane.code not in compiled
    ]
    for lane in lanes:
        if lane.code in compiled:
            continue
        col = pl.col(lane.code)
        match lane.how:
            case "id_number":
                test = fixed_bytes(col, 18)
            case "date":
                test = fixed_bytes(col, 10)
            case "phone":
                test = fixed_bytes(col, 11)
            case "region":
                test = col.is_in(_region_codes(lane.within).implode())
            case _:
                test = _plain(lane, col)
        exprs.append(test.alias(lane.code))
    # ASCII columns (byte and character counts agree) have no full-width character
    exprs += [
        (pl.col(c).str.len_bytes().sum() != pl.col(c).str.len_chars().sum()).alias(f"__w_{c}")
        for c in folded
    ]
    found = chunk.select(exprs)
    folded = [c for c in folded if found.get_column(f"__w_{c}")[0]]
    wide = chunk.select(_any_full_width(pl.col(c)) for c in folded).row(0) if folded else ()
    mask = np.ones(chunk.height, dtype=bool)
    values: dict[str, pl.Series] = {}
    failed: list[str] = []
    for lane in lanes:
        raw = chunk.get_column(lane.code)
        if lane.code in compiled:
            ok = compiled[lane.code]
        elif lane.how == "id_number":
            ok = id_number_ok(found.get_column(lane.code).to_numpy(), today)
        elif lane.how == "phone":
            ok = mobile_ok(found.get_column(lane.code).to_numpy())
        elif lane.how == "date":
            ok, days = iso_date(found.get_column(lane.code).to_numpy())
            values[lane.code] = (
                pl.DataFrame({"days": days, "ok": ok})
                .select(pl.when("ok").then(pl.col("days")).cast(pl.Date).alias(lane.code))
                .to_series()
            )
        else:
            column = found.get_column(lane.code)
            if lane.code in folded and wide[folded.index(lane.code)]:
                # some value has a full-width character (rare): find the rows
                column = column & ~raw.str.contains(std.FULL_WIDTH)
            ok = column.fill_null(False).to_numpy()
        if raw.null_count():
            present = raw.is_not_null().to_numpy()
            ok = ok & present if lane.required else ok | ~present
        if not ok.all():
            failed.append(lane.code)
            mask &= ok
    return Accepted(mask, values, failed)
