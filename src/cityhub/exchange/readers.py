"""Reading deliveries in chunks: CSV, XLSX, JSON, NDJSON and Parquet, each as a stream of
DataFrames of text columns named as in the source, plus `_row` (1-based data row).

CSV and NDJSON are read block by block, each block cut at a record's end and parsed by
Polars; Parquet by slices of `chunk_rows` (only their row groups are read): memory
follows the chunk, not the file. A JSON array is first rewritten
as NDJSON object by object (never parsed whole). An XLSX sheet is read whole by calamine
(a sheet holds at most 1,048,576 rows), then cut into chunks.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from cityhub.errors import ValidationFailed
from cityhub.exchange import encoding
from cityhub.exchange.intake import BLOCK, StoredFile
from cityhub.exchange.vocab import FileFormat

ROW = "__source_row"  # a name no delivered column has (a quarantine CSV has _row)
_EXTENSIONS = {
    ".csv": FileFormat.csv,
    ".txt": FileFormat.csv,
    ".xlsx": FileFormat.xlsx,
    ".xlsm": FileFormat.xlsx,
    ".json": FileFormat.json,
    ".ndjson": FileFormat.ndjson,
    ".jsonl": FileFormat.ndjson,
    ".parquet": FileFormat.parquet,
}
_TEXT_FORMATS = frozenset({FileFormat.csv, FileFormat.json, FileFormat.ndjson})
_NDJSON_SCHEMA_ROWS = 10_000


def detect_format(filename: str, head: bytes, declared: str | None = None) -> FileFormat:
    """The declared format, else the file name's extension, else the first bytes."""
    if declared:
        try:
            return FileFormat(declared.strip().lower())
        except ValueError:
            raise ValidationFailed(
                f"format {declared!r} is not one of {', '.join(f.value for f in FileFormat)}"
            ) from None
    suffix = Path(filename).suffix.lower()
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if suffix == ".json" and stripped.startswith(b"{"):
        return FileFormat.ndjson  # one object per line, named .json
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    if head.startswith(b"PK\x03\x04"):
        return FileFormat.xlsx
    if head.startswith(b"PAR1"):
        return FileFormat.parquet
    if stripped.startswith(b"["):
        return FileFormat.json
    if stripped.startswith(b"{"):
        return FileFormat.ndjson
    return FileFormat.csv


@dataclass(frozen=True)
class Source:
    """A stored delivery ready to be read: a UTF-8 path for text formats."""

    path: Path
    format: FileFormat
    encoding: str
    columns: tuple[str, ...]
    extra_files: tuple[Path, ...] = ()  # transcoded or rewritten copies, removed after use

    def cleanup(self) -> None:
        for extra in self.extra_files:
            extra.unlink(missing_ok=True)


def _problem(fmt: FileFormat, exc: Exception) -> ValidationFailed:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ValidationFailed(f"the {fmt.value.upper()} file cannot be read: {reason}")


# -- headers ------------------------------------------------------------------------------


def _check_names(names: Sequence[str]) -> tuple[str, ...]:
    cleaned = [n.strip().lstrip("\ufeff").strip() for n in names]
    if not cleaned or all(not n for n in cleaned):
        raise ValidationFailed("the file has no header row")
    if "" in cleaned:
        raise ValidationFailed(f"header column {cleaned.index('') + 1} has no name")
    seen: set[str] = set()
    for name in cleaned:
        if name in seen:
            raise ValidationFailed(f"column {name!r} appears twice in the header")
        seen.add(name)
    return tuple(cleaned)


def _csv_header(path: Path) -> tuple[str, ...]:
    with path.open("r", encoding="utf-8", newline="") as src:
        first = src.readline()
    try:
        row = next(csv.reader(io.StringIO(first)))
    except (StopIteration, csv.Error):
        raise ValidationFailed("the file has no header row") from None
    return _check_names(row)


def _check_csv_tail(path: Path, width: int) -> None:
    """A last line without its newline and short of fields is a cut-off file."""
    size = path.stat().st_size
    with path.open("rb") as src:
        src.seek(max(0, size - 65536))
        tail = src.read()
    if tail.endswith(b"\n") or b"\n" not in tail:
        return
    last = tail[tail.rfind(b"\n") + 1 :].decode("utf-8", errors="replace")
    try:
        fields = next(csv.reader(io.StringIO(last)), [])
    except csv.Error:
        fields = []
    quotes_open = last.count('"') % 2 == 1
    if quotes_open or len(fields) < width:
        lines = encoding.line_of(path, size)
        raise ValidationFailed(
            f"the file is truncated: its last line ({lines}) has {len(fields)} of {width} "
            "fields and no line end; deliver the complete file"
        )


def _ndjson_columns(path: Path) -> tuple[str, ...]:
    names: dict[str, None] = {}
    with path.open("r", encoding="utf-8") as src:
        for number, line in enumerate(src, start=1):
            if number > _NDJSON_SCHEMA_ROWS:
                break
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValidationFailed(f"line {number} is not JSON: {exc.msg}") from None
            if not isinstance(record, dict):
                raise ValidationFailed(f"line {number} is not a JSON object")
            names.update(dict.fromkeys(record))
    return _check_names(list(names))


def _check_ndjson_tail(path: Path) -> None:
    size = path.stat().st_size
    with path.open("rb") as src:
        src.seek(max(0, size - 65536))
        tail = src.read().rstrip(b"\r\n\t ")
    last = tail[tail.rfind(b"\n") + 1 :]
    try:
        json.loads(last)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValidationFailed(
            f"the file is truncated: its last line ({encoding.line_of(path, size)}) is not a "
            "complete JSON object"
        ) from None


def json_array_to_ndjson(src: Path, dest: Path) -> None:
    """Rewrite a top-level JSON array of objects as NDJSON, streaming object by object."""
    decoder = json.JSONDecoder()
    buffer = ""
    started = False
    count = 0
    with src.open("r", encoding="utf-8") as inp, dest.open("w", encoding="utf-8") as out:
        while True:
            block = inp.read(BLOCK)
            buffer += block
            pos = 0
            while True:
                while pos < len(buffer) and buffer[pos] in " \t\r\n,\ufeff":
                    pos += 1
                if not started:
                    if pos >= len(buffer):
                        break
                    if buffer[pos] != "[":
                        raise ValidationFailed("a JSON delivery must be an array of objects")
                    started = True
                    pos += 1
                    continue
                if pos < len(buffer) and buffer[pos] == "]":
                    if not buffer[pos + 1 :].strip() and not inp.read(1).strip():
                        return
                    raise ValidationFailed("unexpected content after the JSON array")
                try:
                    record, end = decoder.raw_decode(buffer, pos)
                except json.JSONDecodeError as exc:
                    if block and len(buffer) - pos < 64 * BLOCK:
                        break  # the object continues in the next block
                    if not block:
                        raise ValidationFailed(
                            f"the JSON array is truncated after {count} complete objects"
                        ) from None
                    raise ValidationFailed(
                        f"object {count + 1} of the JSON array is not valid JSON: {exc.msg}"
                    ) from None
                if end >= len(buffer) and block:
                    break  # a number may go on in the next block
                if not isinstance(record, dict):
                    raise ValidationFailed(f"item {count + 1} of the JSON array is not an object")
                out.write(json.dumps(record, ensure_ascii=False))
                out.write("\n")
                count += 1
                pos = end
            buffer = buffer[pos:]
            if not block:
                if not started:
                    raise ValidationFailed("the JSON file is empty")
                raise ValidationFailed(
                    f"the JSON array is truncated after {count} complete objects: it has no "
                    "closing ]"
                )


# -- opening and reading --------------------------------------------------------------------


def open_source(stored: StoredFile, fmt: FileFormat, declared_encoding: str | None) -> Source:
    """Check encoding and shape up front: a bad file fails before any row is merged."""
    extra: list[Path] = []
    path = stored.path
    name = ""
    try:
        if fmt in _TEXT_FORMATS:
            name, path = encoding.resolve(stored, declared_encoding)
            if path != stored.path:
                extra.append(path)
        if fmt is FileFormat.json:
            ndjson = stored.path.with_suffix(stored.path.suffix + ".ndjson")
            extra.append(ndjson)
            json_array_to_ndjson(path, ndjson)
            path = ndjson
        columns = _columns(path, fmt)
    except BaseException:
        for copy in extra:
            copy.unlink(missing_ok=True)
        raise
    return Source(path, fmt, name, columns, tuple(extra))


def _columns(path: Path, fmt: FileFormat) -> tuple[str, ...]:
    match fmt:
        case FileFormat.csv:
            names = _csv_header(path)
            _check_csv_tail(path, len(names))
            return names
        case FileFormat.json | FileFormat.ndjson:
            _check_ndjson_tail(path)
            return _ndjson_columns(path)
        case FileFormat.parquet:
            try:
                return _check_names(pl.scan_parquet(path).collect_schema().names())
            except (pl.exceptions.PolarsError, OSError) as exc:
                raise ValidationFailed(
                    f"the Parquet file cannot be read (truncated or damaged?): {_first(exc)}"
                ) from None
        case FileFormat.xlsx:
            return _check_names(_xlsx(path, rows=0).columns)


def _first(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _xlsx(path: Path, rows: int | None = None) -> pl.DataFrame:
    read_options = {"n_rows": rows} if rows is not None else None
    try:
        frame = pl.read_excel(
            path,
            engine="calamine",
            infer_schema_length=0,
            read_options=read_options,
            raise_if_empty=False,
        )
    except Exception as exc:  # calamine raises its own types for damaged files
        raise ValidationFailed(
            f"the XLSX file cannot be read (truncated or damaged?): {_first(exc)}"
        ) from None
    assert isinstance(frame, pl.DataFrame)
    return frame


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    exprs = [
        pl.col(name).cast(pl.String) if dtype != pl.String and name != ROW else pl.col(name)
        for name, dtype in frame.schema.items()
    ]
    return frame.with_columns(exprs).with_columns(pl.col(ROW).cast(pl.Int64))


def _lazy(source: Source, columns: Sequence[str] | None) -> pl.LazyFrame:
    schema = {name: pl.String for name in source.columns}
    match source.format:
        case FileFormat.csv:
            lazy = pl.scan_csv(
                source.path,
                infer_schema=False,
                row_index_name=ROW,
                row_index_offset=1,
                raise_if_empty=False,
            )
        case FileFormat.json | FileFormat.ndjson:
            lazy = pl.scan_ndjson(
                source.path, schema=schema, row_index_name=ROW, row_index_offset=1
            )
        case FileFormat.parquet:
            lazy = pl.scan_parquet(source.path, row_index_name=ROW, row_index_offset=1)
        case FileFormat.xlsx:
            frame = _xlsx(source.path).with_row_index(ROW, offset=1)
            lazy = frame.lazy()
    if columns is not None:
        lazy = lazy.select(ROW, *columns)
    return lazy


_FIRST_BLOCK = 4 << 20  # bytes of the first block; the next hold about `chunk_rows` rows
_MAX_BLOCK = 256 << 20
_MAX_RECORD = 64 << 20  # a longer "record" is an unbalanced quote, not data


def _record_end(data: bytes, quoted: bool, inside: bool) -> int:
    """Bytes of `data` up to its last line end that closes a record (0: none). In CSV a
    line end inside a quoted value does not close one: an odd number of quotes comes
    before it (an escaped quote is two); `inside`: `data` starts inside a quoted value."""
    if not quoted or b'"' not in data:
        return 0 if inside else data.rfind(b"\n") + 1
    raw = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(raw == 0x0A)
    quotes_before = np.searchsorted(np.flatnonzero(raw == 0x22), ends) + inside
    closed = ends[(quotes_before & 1) == 0]
    return int(closed[-1]) + 1 if closed.size else 0


def _text_chunks(
    source: Source, chunk_rows: int, columns: Sequence[str] | None
) -> Iterator[pl.DataFrame]:
    """CSV and NDJSON read block by block, each cut at a record's end and parsed on its
    own: memory follows the block, however far behind the reader of the chunks is.
    (Polars' `collect_batches` runs the whole scan ahead of its reader and buffers what
    is not taken yet: a slow merge held most of the file.)"""
    csv_file = source.format is FileFormat.csv
    schema = {name: pl.String for name in source.columns}
    row, size, carry = 1, _FIRST_BLOCK, b""
    with source.path.open("rb") as src:
        header = src.readline() if csv_file else b""
        names = pl.read_csv(header, infer_schema=False).columns if header.strip() else []
        while True:
            data = src.read(size)
            if not data and not carry:
                return
            # the carry is the start of a record: its quotes say whether `data` starts
            # inside a quoted value; `data` is scanned and copied once
            inside = csv_file and carry.count(b'"') % 2 == 1
            cut = _record_end(data, csv_file, inside) if data else 0
            if data and cut == 0:
                if len(carry) + len(data) > _MAX_RECORD:  # one record longer than a block
                    raise ValidationFailed(
                        f"data row {row} runs over {_MAX_RECORD >> 20} MB without ending: "
                        "a quote is probably unbalanced"
                    )
                carry, size = carry + data, size * 2
                continue
            block = b"".join((carry, memoryview(data)[:cut])) if data else carry
            carry = data[cut:] if data else b""
            if block and not block.isspace():
                if csv_file:
                    frame = pl.read_csv(
                        block,
                        has_header=False,
                        new_columns=names,
                        infer_schema=False,
                        raise_if_empty=False,
                    )
                else:
                    frame = pl.read_ndjson(block, schema=schema)
                if frame.height:
                    frame = frame.with_row_index(ROW, offset=row)
                    frame = frame.select(ROW, *columns) if columns is not None else frame
                    row += frame.height
                    size = min(_MAX_BLOCK, max(1 << 16, len(block) * chunk_rows // frame.height))
                    for at in range(0, frame.height, chunk_rows):
                        yield _as_text(frame.slice(at, chunk_rows))
            if not data:
                return


def chunks(
    source: Source, chunk_rows: int, columns: Sequence[str] | None = None
) -> Iterator[pl.DataFrame]:
    """The rows in chunks of at most `chunk_rows`, all columns as text (or only `columns`)."""
    try:
        if source.format in _TEXT_FORMATS:
            yield from _text_chunks(source, chunk_rows, columns)
            return
        lazy = _lazy(source, columns)
        total = lazy.select(pl.len()).collect().item()
        for at in range(0, total, chunk_rows):  # Parquet: only the row groups of the slice
            batch = lazy.slice(at, chunk_rows).collect()
            if batch.height:
                yield _as_text(batch)
    except pl.exceptions.PolarsError as exc:
        raise _read_error(source, exc) from None


def _read_error(source: Source, exc: Exception) -> ValidationFailed:
    text = str(exc)
    if source.format is FileFormat.csv and "more fields" in text:
        where = _first_wide_row(source.path, len(source.columns))
        return ValidationFailed(
            f"row {where} has more fields than the header's {len(source.columns)}; check the "
            "separator (,) and the quoting of values that contain commas"
        )
    if source.format is FileFormat.csv and ("quote" in text.lower() or "EOF" in text):
        return ValidationFailed(
            "the CSV file ends inside a quoted value: it is truncated or a quote is unbalanced"
        )
    return _problem(source.format, exc)


def _first_wide_row(path: Path, width: int) -> str:
    with path.open("r", encoding="utf-8", newline="") as src:
        reader = csv.reader(src)
        next(reader, None)
        for number, row in enumerate(reader, start=1):
            if len(row) > width:
                return str(number)
    return "?"
