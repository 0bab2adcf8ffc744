"""Text encodings of deliveries: UTF-8 (with or without BOM), GBK and GB18030, declared or
detected, and refused with the line of the first bad byte when a file is neither, or is a
mix of UTF-8 and GBK lines.

Detection: a BOM says UTF-8; otherwise the strict UTF-8 pass made while storing the file
decides. A file that is not UTF-8 is decoded strictly as GBK, then GB18030 (its
superset), and written as UTF-8 for the readers; a line inside it that is well-formed
UTF-8 Chinese means two encodings were mixed.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from cityhub.errors import ValidationFailed
from cityhub.exchange.intake import BLOCK, StoredFile

ALIASES = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-8-sig": "utf-8",
    "gbk": "gbk",
    "cp936": "gbk",
    "gb2312": "gbk",  # GBK is its superset
    "gb18030": "gb18030",
}
# Three Chinese characters in a row, as UTF-8 bytes.
_UTF8_CJK_RUN = re.compile(rb"(?:[\xe4-\xe9][\x80-\xbf]{2}){3,}")


def normalize_name(name: str) -> str:
    found = ALIASES.get(name.strip().lower().replace("_", "-"))
    if found is None:
        raise ValidationFailed(
            f"encoding {name!r} is not supported; use utf-8, gbk or gb18030 (or leave it out "
            "to detect it)"
        )
    return found


def line_of(path: Path, offset: int) -> int:
    """1-based line number of byte `offset`."""
    lines = 1
    done = 0
    with path.open("rb") as src:
        while done < offset and (block := src.read(min(BLOCK, offset - done))):
            lines += block.count(b"\n")
            done += len(block)
    return lines


def _looks_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def transcode(src: Path, dest: Path, encoding: str) -> None:
    """`src` decoded strictly as `encoding`, written as UTF-8; a clear error otherwise."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    done = 0
    lines = 1
    with src.open("rb") as inp, dest.open("w", encoding="utf-8", newline="") as out:
        while block := inp.read(BLOCK):
            try:
                text = decoder.decode(block)
            except UnicodeDecodeError as exc:
                line = lines + block[: exc.start].count(b"\n")
                if encoding != "utf-8":
                    _refuse_mixed_at(block, exc.start, line)
                raise ValidationFailed(
                    f"the file is not valid {encoding.upper()}: undecodable bytes on line "
                    f"{line} (byte {done + exc.start}); declare the right encoding or save "
                    "the file as UTF-8"
                ) from None
            if encoding != "utf-8":
                _refuse_mixed(block, lines)
            out.write(text)
            lines += block.count(b"\n")
            done += len(block)
        try:
            out.write(decoder.decode(b"", final=True))
        except UnicodeDecodeError:
            raise ValidationFailed(
                f"the file ends inside a character (line {lines}): it is truncated or not "
                f"{encoding.upper()}"
            ) from None


def _refuse_mixed(block: bytes, first_line: int) -> None:
    for match in _UTF8_CJK_RUN.finditer(block):
        start = block.rfind(b"\n", 0, match.start()) + 1
        end = block.find(b"\n", match.end())
        line = block[start : end if end >= 0 else len(block)].rstrip(b"\r")
        if _looks_utf8(line):
            number = first_line + block[:start].count(b"\n")
            raise ValidationFailed(
                f"mixed encodings: the file reads as GBK/GB18030 but line {number} is UTF-8; "
                "save the whole file in one encoding"
            )


def _refuse_mixed_at(block: bytes, offset: int, line: int) -> None:
    """The undecodable bytes sit on a line that is UTF-8 Chinese: two encodings mixed."""
    start = block.rfind(b"\n", 0, offset) + 1
    end = block.find(b"\n", offset)
    text = block[start : end if end >= 0 else len(block)].rstrip(b"\r")
    if (_looks_utf8(text) and _UTF8_CJK_RUN.search(text) is not None) or (
        _looks_utf8(text) and any(b >= 0xE4 for b in text)
    ):
        raise ValidationFailed(
            f"mixed encodings: the file reads as GBK/GB18030 but line {line} is UTF-8; "
            "save the whole file in one encoding"
        )


def resolve(stored: StoredFile, declared: str | None) -> tuple[str, Path]:
    """(encoding name, a UTF-8 file to read): the stored file itself, or a transcoded copy."""
    check = stored.utf8
    name = normalize_name(declared) if declared else None
    if name in (None, "utf-8") and check.valid:
        return ("utf-8-sig" if check.bom else "utf-8"), stored.path
    if name == "utf-8" or (name is None and check.cjk_before_bad):
        line = line_of(stored.path, check.bad_offset or 0)
        if name is None:
            raise ValidationFailed(
                f"mixed encodings: the file starts as UTF-8 Chinese text but line {line} is "
                "not UTF-8; save the whole file in one encoding"
            )
        raise ValidationFailed(
            f"the file is not valid UTF-8: undecodable bytes on line {line}; it may be GBK "
            "(declare encoding=gbk) or damaged"
        )
    utf8_copy = stored.path.with_suffix(stored.path.suffix + ".utf8")
    if name is not None:
        try:
            transcode(stored.path, utf8_copy, name)
        except BaseException:
            utf8_copy.unlink(missing_ok=True)
            raise
        return name, utf8_copy
    try:
        transcode(stored.path, utf8_copy, "gbk")
        return "gbk", utf8_copy
    except ValidationFailed as gbk_error:
        if "mixed encodings" in gbk_error.detail:
            utf8_copy.unlink(missing_ok=True)
            raise
    try:
        transcode(stored.path, utf8_copy, "gb18030")
    except ValidationFailed as exc:
        utf8_copy.unlink(missing_ok=True)
        raise ValidationFailed(
            exc.detail.replace("not valid GB18030", "neither UTF-8, GBK nor GB18030")
        ) from None
    return "gb18030", utf8_copy
