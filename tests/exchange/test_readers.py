"""Reading deliveries block by block: the same rows as one whole read, cut only at a
record's end, and never far ahead of the reader."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from cityhub.errors import ValidationFailed
from cityhub.exchange import readers
from cityhub.exchange.vocab import FileFormat


def _source(path: Path, fmt: FileFormat, columns: tuple[str, ...]) -> readers.Source:
    return readers.Source(path, fmt, "utf-8", columns)


def _messy_csv(path: Path, rows: int) -> pl.DataFrame:
    """Values with quotes, commas and line ends inside quotes, of varying length."""
    frame = pl.DataFrame(
        {
            "id": [f"{i:06d}" for i in range(rows)],
            "note": [f'第{i}行,"引号"\n换行' * (i % 4) for i in range(rows)],
            "name": [f"名{i}" for i in range(rows)],
        }
    )
    frame.write_csv(path)
    return frame


def test_csv_blocks_cut_only_between_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "_FIRST_BLOCK", 97)  # many blocks, cut at odd places
    path = tmp_path / "messy.csv"
    whole = _messy_csv(path, 2_000)
    got = pl.concat(readers.chunks(_source(path, FileFormat.csv, tuple(whole.columns)), 150))
    assert got.get_column(readers.ROW).to_list() == list(range(1, 2_001))
    assert got.drop(readers.ROW).equals(whole)
    sizes = [c.height for c in readers.chunks(_source(path, FileFormat.csv, ()), 150)]
    assert max(sizes) <= 150 and sum(sizes) == 2_000


def test_ndjson_blocks_and_selected_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "_FIRST_BLOCK", 64)
    path = tmp_path / "rows.ndjson"
    whole = pl.DataFrame(
        {"id": [str(i) for i in range(500)], "v": [f"值\n{i}" for i in range(500)]}
    )
    whole.write_ndjson(path)
    source = _source(path, FileFormat.ndjson, ("id", "v"))
    got = pl.concat(readers.chunks(source, 64, columns=["v"]))
    assert got.columns == [readers.ROW, "v"]
    assert got.get_column("v").to_list() == whole.get_column("v").to_list()


def test_reading_stays_about_one_block_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Memory follows the chunk: the first chunk is served before the file is read."""
    path = tmp_path / "big.csv"
    _messy_csv(path, 50_000)
    opened: list[object] = []
    real_open = Path.open

    def spy(self: Path, *args: object, **kwargs: object) -> object:
        handle = real_open(self, *args, **kwargs)  # type: ignore[call-overload]
        opened.append(handle)
        return handle

    monkeypatch.setattr(readers, "_FIRST_BLOCK", 1 << 16)
    monkeypatch.setattr(Path, "open", spy)
    stream = readers.chunks(_source(path, FileFormat.csv, ("id", "note", "name")), 1_000)
    first = next(stream)
    assert first.height == 1_000
    assert opened[-1].tell() < path.stat().st_size // 4  # type: ignore[attr-defined]
    stream.close()


def test_an_unbalanced_quote_is_refused_not_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "_FIRST_BLOCK", 1 << 10)
    monkeypatch.setattr(readers, "_MAX_RECORD", 1 << 14)
    path = tmp_path / "broken.csv"
    path.write_text('id,name\n1,a\n2,"b\n' + "3,c\n" * 10_000, encoding="utf-8")
    with pytest.raises(ValidationFailed, match=r"data row 2 runs over .* unbalanced"):
        list(readers.chunks(_source(path, FileFormat.csv, ("id", "name")), 100))
