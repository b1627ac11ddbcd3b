"""Spreadsheets that make readers allocate: a few kilobytes with one cell far away."""

from __future__ import annotations

import io
import re
import zipfile

from openpyxl import Workbook


def xlsx_with_far_cell(
    cell: str, *, header: list[str] | None = None, declare: bool = True
) -> bytes:
    """A one-row sheet plus one cell at ``cell`` (e.g. "XFD1048576"); with ``declare`` the
    sheet's <dimension> says so too, without it the dimension stays small (a forged file)."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(header or ["楼栋", "单元", "门牌", "姓名"])
    out = io.BytesIO()
    wb.save(out)
    row = cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    far = f'<row r="{row}"><c r="{cell}" t="inlineStr"><is><t>x</t></is></c></row>'
    result = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as src, zipfile.ZipFile(
        result, "w", zipfile.ZIP_DEFLATED
    ) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode().replace("</sheetData>", far + "</sheetData>")
                if declare:
                    text = re.sub(r'<dimension ref="[^"]*" ?/>', f'<dimension ref="A1:{cell}"/>',
                                  text)
                data = text.encode()
            dst.writestr(info.filename, data)
    return result.getvalue()
