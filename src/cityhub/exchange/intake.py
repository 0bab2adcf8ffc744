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
    """Feeds blocks to a strict incremental UTF-8 decoder; remembers the first bad byte."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self.size = 0
        self.bad: int | None = None
        self.cjk = False
        self.bom = False

    def feed(self, block: bytes) -> None:
        if self.size == 0:
            self.bom = block.startswith(codecs.BOM_UTF8)
        self.size += len(block)
        if self.bad is not None:
            return
        try:
            text = self._decoder.decode(block)
        except UnicodeDecodeError as exc:
            self.bad = self.size - len(block) + exc.start
            text = block[: exc.start].decode("utf-8", errors="ignore")
        self.cjk = self.cjk or bool(_CJK.search(text))

    def result(self) -> Utf8Check:
        if self.bad is None:
            try:
                self._decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                self.bad = max(0, self.size - 3)  # a multi-byte character cut at the end
        return Utf8Check(self.bad is None, self.bad, self.cjk, self.bom)


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
