"""The bounded look at uploaded spreadsheets (jinzhitong/xlsx.py): a sheet reaching past
the limits is refused before any reader allocates for it, in memory that does not grow
with what the sheet declares."""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import pytest
from django.test import override_settings

from jinzhitong import xlsx
from tests.xlsx_bombs import xlsx_with_far_cell

LIMITS = xlsx.Limits(rows=20_001, columns=64, uncompressed_bytes=160 * 2**20)


@pytest.mark.parametrize("declare", [True, False], ids=["declared", "forged-dimension"])
@pytest.mark.parametrize("cell", ["XFD1048576", "AD1048576", "BM2"])
def test_it_refuses_a_cell_beyond_the_limits_naming_them(cell: str, declare: bool) -> None:
    with pytest.raises(xlsx.XlsxError) as e:
        xlsx.check_xlsx(xlsx_with_far_cell(cell, declare=declare), LIMITS)
    assert str(e.value) == (
        f"表格范围过大（到 {cell}）：每个文件最多 20001 行、64 列（到 BL 列），"
        "请删除多余的行和列后重新上传"
    )


def test_it_refuses_the_xfd1048576_sheet_in_bounded_memory() -> None:
    # Measured: peak 90 KB traced, ~10 ms (python-calamine aborted the process on this
    # file; a cell at AD1048576 cost it 970 MB and 23 s).
    data = xlsx_with_far_cell("XFD1048576")
    tracemalloc.start()
    try:
        with pytest.raises(xlsx.XlsxError):
            xlsx.check_xlsx(data, LIMITS)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 * 2**20


def test_it_accepts_a_sheet_inside_the_limits() -> None:
    xlsx.check_xlsx(xlsx_with_far_cell("BL20001"), LIMITS)


def test_it_counts_inflated_bytes_against_the_limit() -> None:
    data = xlsx_with_far_cell("A2")
    with pytest.raises(xlsx.XlsxError) as e:
        xlsx.check_xlsx(data, xlsx.Limits(rows=10, columns=10, uncompressed_bytes=1000))
    assert str(e.value) == "文件解压后过大（超过 0 MB），请拆分后上传"


def test_it_refuses_entity_declarations() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("xl/worksheets/sheet1.xml",
                   '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')
    with pytest.raises(xlsx.XlsxError) as e:
        xlsx.check_xlsx(out.getvalue(), LIMITS)
    assert str(e.value) == "文件不是有效的 Excel（.xlsx）文件"


def test_it_refuses_a_file_that_is_not_a_zip() -> None:
    with pytest.raises(xlsx.XlsxError):
        xlsx.check_xlsx(b"PK\x03\x04 not a zip", LIMITS)


@override_settings(XLSX_MAX_COLUMNS=3)
def test_the_column_limit_is_a_setting() -> None:
    with pytest.raises(xlsx.XlsxError):
        xlsx.check_xlsx(xlsx_with_far_cell("D1"), xlsx.default_limits(rows=10))


def _zip_with_sheet(sheet_xml: str, name: str = "xl/worksheets/sheet1.xml") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, sheet_xml)
    return out.getvalue()


@pytest.mark.parametrize(
    "sheet_data",
    [
        # A reference written with a character entity is still the reference.
        '<row r="1"><c r="&#88;FD1048576"><v>1</v></c></row>',
        # Cells without a reference follow the previous one; rows without one, likewise.
        '<row r="1048576"><c><v>1</v></c></row>',
        '<row r="1"><c r="BL1"/><c><v>1</v></c></row>',
        # A prefixed namespace changes nothing.
        '<x:row r="1048576"><x:c r="A1048576"/></x:row>',
    ],
    ids=["entity", "row-without-cell-refs", "cell-after-the-last-column", "prefixed"],
)
def test_it_finds_cells_however_they_are_written(sheet_data: str) -> None:
    xml = ('<worksheet xmlns:x="urn:x" xmlns="urn:x"><x:sheetData>'
           f"{sheet_data}</x:sheetData></worksheet>")
    with pytest.raises(xlsx.XlsxError) as e:
        xlsx.check_xlsx(_zip_with_sheet(xml, name="xl/anywhere.bin"), LIMITS)
    assert e.value.code == "too_large"
