"""Receiving a delivery's bytes: streamed to a file under the data directory in blocks,
with the SM3 digest and a strict UTF-8 check computed on the way, so a file of several
GB never sits in memory and is read only once here."""

from __future__ import annotations

import codecs
import hashlib
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import polars as pl

from cityhub.errors import BadRequest, CityHubError

BLOCK = 1 << 20
_CJK = re.compile(r"[\u4e00-\u9fff]")


class TooLarge(CityHubError):
    status, type, title = 413, "https://cityhub.dev/problems/too-large", "Payload too large"


@dataclass(frozen=True)
class Utf8Check:
    """What the strict UTF-8 pass saw: valid throughout, or the first bad byte."""

    valid: bool
    bad_offset: int | None  # bytes before the first invalid sequence
    cjk_before_bad: bool  # Chinese text decoded as UTF-8 before that point
    bom: bool


@dataclass(frozen=True)
class StoredFile:
    path: Path  # absolute
    relative: str  # under the data directory, as recorded on the batch
    size: int
    digest: str  # SM3, hex
    utf8: Utf8Check
    head: bytes  # the first bytes, for format sniffing


class Utf8Scanner:
    """Checks blocks as strict UTF-8; remembers the first bad byte. Validation runs in
    Polars (native, ~10x Python's decoder); only a block that fails is decoded in Python,
    to find the exact offset, and only blocks up to the first Chinese text are decoded to
    look for it."""

    def __init__(self) -> None:
        self.size = 0
        self.bad: int | None = None
        self.cjk = False
        self.bom = False
        self._carry = b""  # the start of a character cut at the end of the last block

    def feed(self, block: bytes) -> None:
        if self.size == 0:
            self.bom = block.startswith(codecs.BOM_UTF8)
        offset = self.size - len(self._carry)  # where `data` starts in the file
        self.size += len(block)
        if self.bad is not None:
            return
        data = self._carry + block
        end = _whole_characters(data)
        if not _is_utf8(data[:end]):
            try:
                data[:end].decode("utf-8")
            except UnicodeDecodeError as exc:
                self.bad = offset + exc.start
                text = data[: exc.start].decode("utf-8", errors="ignore")
                self.cjk = self.cjk or bool(_CJK.search(text))
                return
        if not self.cjk and not data.isascii():
            self.cjk = bool(_CJK.search(data[:end].decode("utf-8")))
        self._carry = data[end:]

    def result(self) -> Utf8Check:
        if self.bad is None and self._carry:
            self.bad = self.size - len(self._carry)  # a multi-byte character cut at the end
        return Utf8Check(self.bad is None, self.bad, self.cjk, self.bom)


def _whole_characters(data: bytes) -> int:
    """The length of `data` without a multi-byte character cut at its end."""
    end = len(data)
    lead = end - 1
    while lead >= 0 and end - lead <= 3 and data[lead] & 0xC0 == 0x80:
        lead -= 1
    if lead < 0 or data[lead] < 0xC0:
        return end
    width = 2 if data[lead] < 0xE0 else 3 if data[lead] < 0xF0 else 4
    return lead if end - lead < width else end


def _is_utf8(data: bytes) -> bool:
    if data.isascii():
        return True
    try:
        pl.Series([data], dtype=pl.Binary).cast(pl.String)
    except pl.exceptions.PolarsError:
        return False
    return True


def check_file(path: Path) -> Utf8Check:
    scanner = Utf8Scanner()
    with path.open("rb") as src:
        while block := src.read(BLOCK):
            scanner.feed(block)
    return scanner.result()


def new_path(data_dir: Path, suffix: str) -> tuple[Path, str]:
    now = datetime.now(UTC)
    relative = f"exchange/batches/{now:%Y/%m}/{uuid.uuid4().hex}{suffix}"
    path = (data_dir / relative).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return path, relative


def _blocks(source: BinaryIO | Iterable[bytes]) -> Iterable[bytes]:
    if hasattr(source, "read"):
        while block := source.read(BLOCK):
            yield block
    else:
        yield from source


def store(
    source: BinaryIO | Iterable[bytes],
    data_dir: Path,
    *,
    suffix: str = "",
    max_bytes: int | None = None,
    on_progress: object = None,
) -> StoredFile:
    """Copy `source` to a new file under `data_dir`; nothing is kept when it fails."""
    path, relative = new_path(data_dir, suffix)
    sm3 = hashlib.new("sm3")
    scanner = Utf8Scanner()
    size = 0
    head = b""
    try:
        with path.open("wb") as out:
            for block in _blocks(source):
                if not block:
                    continue
                size += len(block)
                if max_bytes is not None and size > max_bytes:
                    raise TooLarge(
                        f"the file is larger than the {max_bytes // (1 << 20)} MiB allowed "
                        "(CITYHUB_EXCHANGE_MAX_UPLOAD_MB)"
                    )
                if len(head) < 65536:
                    head += block[: 65536 - len(head)]
                sm3.update(block)
                out.write(block)
                scanner.feed(block)
                if callable(on_progress):
                    on_progress(len(block))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if size == 0:
        path.unlink(missing_ok=True)
        raise BadRequest("the file is empty")
    return StoredFile(path, relative, size, sm3.hexdigest(), scanner.result(), head)


def sm3_of(path: Path) -> str:
    digest = hashlib.new("sm3")
    with path.open("rb") as src:
        while block := src.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()
