"""Row fingerprints: pinned values (stored fingerprints must still match after an upgrade),
the compiled and the NumPy hashing equal, nulls distinct from empty strings."""

from __future__ import annotations

import random

import numpy as np
import polars as pl
import pytest

from cityhub.library import datastore as ds
from cityhub.library import fingerprint

# Computed once by the NumPy hashing; any change here changes every stored fingerprint.
PINNED = {
    "": 11286133854226296554,
    "a": 13812093546343076436,
    "ab": 13093788666615070389,
    "张三": 10865528362990908986,
    "𠀀x": 3074526864675721304,
    "371302199001011234\x1f张三\x1f1": 2812933479895739262,
}


def _numpy_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fingerprint, "_rowhash", None)


@pytest.mark.parametrize("native", [True, False], ids=["compiled", "numpy"])
def test_pinned_values(native: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if not native:
        _numpy_only(monkeypatch)
    elif fingerprint._rowhash is None:
        pytest.skip("cityhub.library._rowhash was not built (no C compiler at install)")
    hashed = fingerprint.hash_strings(pl.Series(list(PINNED)))
    assert [int(h) for h in hashed] == list(PINNED.values())


def test_compiled_equals_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    if fingerprint._rowhash is None:
        pytest.skip("cityhub.library._rowhash was not built (no C compiler at install)")
    rng = random.Random(11643)
    alphabet = "0123456789X张王李临沂兰山区街道号\x1f\x1e " + "".join(
        map(chr, range(0x4E00, 0x4E40))
    )
    values = ["".join(rng.choices(alphabet, k=rng.randint(0, 300))) for _ in range(5_000)]
    values += ["𠀀" * n for n in range(8)] + ["a" * n for n in range(8)]
    series = pl.Series(values)
    # read in place (Arrow, UTF-8): one array, a slice, several arrays
    whole = fingerprint.hash_strings(series)
    sliced = fingerprint.hash_strings(series.slice(7, 900))
    parts = pl.concat([series.slice(0, 1000), series.slice(1000)], rechunk=False)
    assert parts.n_chunks() == 2
    chunked = fingerprint.hash_strings(parts)
    # fixed-width code points: the compiled block hash, then NumPy alone
    blocks = fingerprint.hash_strings(series, native=False)
    _numpy_only(monkeypatch)
    numpy = fingerprint.hash_strings(series)
    assert np.array_equal(whole, numpy)
    assert np.array_equal(blocks, numpy)
    assert np.array_equal(chunked, numpy)
    assert np.array_equal(sliced, numpy[7:907])


def test_refuses_a_wrong_shape_nulls_and_other_types() -> None:
    native = fingerprint._rowhash
    if native is None:
        pytest.skip("cityhub.library._rowhash was not built (no C compiler at install)")
    with pytest.raises(ValueError, match="n \\* width"):
        native.hash_block(np.zeros(5, dtype=np.uint32), 2, np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="without nulls"):
        native.hash_arrow(pl.Series(["a", None]).__arrow_c_stream__())
    with pytest.raises(ValueError, match="stream of strings"):
        native.hash_arrow(pl.Series([1, 2]).__arrow_c_stream__())


def test_null_and_empty_differ_and_order_matters() -> None:
    cols = (
        ds.ColumnSpec("xm", ds.ColumnKind.string),
        ds.ColumnSpec("hh", ds.ColumnKind.string),
    )
    frame = pl.DataFrame({"xm": ["张三", "张三", "", None], "hh": [None, "", "张三", "张三"]})
    hashes = fingerprint.fingerprints(frame, cols).to_list()
    assert len(set(hashes)) == 4
    again = fingerprint.fingerprints(frame.reverse(), cols).to_list()
    assert again == hashes[::-1]
