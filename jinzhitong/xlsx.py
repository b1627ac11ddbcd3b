"""A bounded look at an uploaded XLSX before any spreadsheet library reads it.

Spreadsheet readers allocate for the range a sheet declares or uses: a 1.5 KB file with one
cell at XFD1048576 (the last cell Excel allows) made python-calamine ask for billions of
cells and abort the process, and a cell at AD1048576 cost a gigabyte and eleven seconds.
``check_xlsx`` streams every XML part of the zip through expat (no tree is built, no DTD or
entity is accepted), counting the bytes it inflates, and refuses the file as soon as a
sheet's declared dimension or any cell lies beyond the limits. Its memory does not depend
on the file: a few hundred kilobytes whatever the sheet declares (tests/test_xlsx.py).

A leaf module: callers turn ``XlsxError`` into their own error type.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO
from xml.parsers import expat

from django.conf import settings
from django.utils.translation import gettext as _

_CHUNK = 64 * 1024
_CELL_REF = re.compile(r"\s*\$?([A-Za-z]{1,3})\$?([0-9]{1,7})\s*$")


class XlsxError(ValueError):
    """The file is refused; ``str(error)`` is the Chinese message for the user and
    ``code`` says why: "invalid" (not a readable XLSX) or "too_large"."""

    def __init__(self, message: str, code: str = "too_large") -> None:
        super().__init__(message)
        self.code = code


def _invalid() -> XlsxError:
    return XlsxError(_("文件不是有效的 Excel（.xlsx）文件"), code="invalid")


class _Stop(Exception):
    """Raised from inside expat's callbacks to stop parsing at once."""


@dataclass(frozen=True)
class Limits:
    rows: int
    columns: int
    uncompressed_bytes: int


def default_limits(*, rows: int) -> Limits:
    return Limits(
        rows=rows,
        columns=settings.XLSX_MAX_COLUMNS,
        uncompressed_bytes=settings.XLSX_MAX_UNCOMPRESSED_BYTES,
    )


def column_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - ord("A") + 1)
    return n


def column_letters(n: int) -> str:
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(ord("A") + rem) + out
    return out


def _too_large(limits: Limits, where: str) -> XlsxError:
    return XlsxError(
        _("表格范围过大（到 %(cell)s）：每个文件最多 %(rows)d 行、%(cols)d 列（到 %(last)s 列），"
          "请删除多余的行和列后重新上传")
        % {"cell": where, "rows": limits.rows, "cols": limits.columns,
           "last": column_letters(limits.columns)}
    )


def _scanner(limits: Limits) -> Callable[[str, dict[str, str]], None]:
    """expat's start-element callback: the declared dimension and every cell's position.

    Called for every element of every part (hundreds of thousands for a real register), so
    it is a closure over locals with the common case first; elements other than
    dimension, sheetData, row and c cost one comparison or two."""
    max_rows, max_cols = limits.rows, limits.columns
    state = [False, 0, 0]  # inside sheetData, current row, current column
    columns: dict[str, int] = {}
    match = _CELL_REF.match

    def check(row: int, col: int) -> None:
        if row > max_rows or col > max_cols:
            raise _Stop(_too_large(limits, f"{column_letters(col)}{row}"))

    def position(ref: str) -> tuple[int, int] | None:
        m = match(ref)
        if m is None:
            return None
        letters = m.group(1)
        col = columns.get(letters)
        if col is None:
            col = columns[letters] = column_number(letters)
        return int(m.group(2)), col

    def start(name: str, attrs: dict[str, str]) -> None:
        if state[0] and (name == "c" or name[-2:] == ":c"):
            pos = position(attrs.get("r", ""))
            if pos is None:  # no reference: the next cell of the row, as readers place it
                state[2] += 1
            else:
                state[1], state[2] = pos
            check(state[1], state[2])
        elif state[0] and (name == "row" or name[-4:] == ":row"):
            # A row element alone allocates nothing; its cells are checked above.
            r = attrs.get("r")
            state[1] = int(r) if r and r.isdigit() else state[1] + 1
            state[2] = 0
        elif name[-9:] == "sheetData":
            state[0] = True  # nothing after sheetData in a worksheet has c elements
        elif name[-9:] == "dimension":
            for part in attrs.get("ref", "").split(":"):
                pos = position(part)
                if pos is not None:
                    check(*pos)

    return start


def _refuse_doctype(*_args: object) -> None:
    raise _Stop(_invalid())


def _scan_part(stream: IO[bytes], limits: Limits, budget: list[int]) -> None:
    first = stream.read(_CHUNK)
    if not first.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        budget[0] -= len(first)  # not XML (an image, a binary part): count it, skip it
        while chunk := stream.read(_CHUNK):
            budget[0] -= len(chunk)
            if budget[0] < 0:
                raise _Stop(_uncompressed(limits))
        return
    parser = expat.ParserCreate()
    parser.StartElementHandler = _scanner(limits)
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_doctype
    chunk = first
    while chunk:
        budget[0] -= len(chunk)
        if budget[0] < 0:
            raise _Stop(_uncompressed(limits))
        parser.Parse(chunk, False)
        chunk = stream.read(_CHUNK)
    parser.Parse(b"", True)


def _uncompressed(limits: Limits) -> XlsxError:
    return XlsxError(
        _("文件解压后过大（超过 %(mb)d MB），请拆分后上传")
        % {"mb": limits.uncompressed_bytes // 2**20}
    )


def check_xlsx(data: bytes, limits: Limits) -> None:
    """Refuse (``XlsxError``) a file that is not a zip, inflates beyond the limit, or has a
    sheet whose declared or real extent passes ``limits.rows`` × ``limits.columns``.

    Every part is read, whatever its name, since a workbook may point to its sheets from
    anywhere in the zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
            if sum(i.file_size for i in infos) > limits.uncompressed_bytes:
                raise _uncompressed(limits)
            # The headers may lie about sizes: the bytes actually inflated count too.
            budget = [limits.uncompressed_bytes]
            for info in infos:
                if info.is_dir():
                    continue
                with z.open(info) as stream:
                    _scan_part(stream, limits, budget)
    except _Stop as stop:
        raise stop.args[0] from None
    except (zipfile.BadZipFile, zlib.error, expat.ExpatError, NotImplementedError,
            RuntimeError, OSError, EOFError, ValueError) as e:
        if isinstance(e, XlsxError):
            raise
        raise _invalid() from e
