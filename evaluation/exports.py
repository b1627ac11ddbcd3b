"""Assessment sheets (考核表) as XLSX and CSV: title, period, formulas stated, frozen
header, and no cell that a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from evaluation.models import ScoreKind
from evaluation.rates import COUNT_LABELS, RATES_BY_KEY, WORKER_RATES_BY_KEY
from evaluation.tables import BY_CHOICES, BY_COLUMNS, Table
from grids.models import Region

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_EXTRA_COUNTS = {"verified": _("核查通过数")}


def safe(value: Any) -> Any:
    """A cell value no spreadsheet will evaluate: text that starts like a formula gets a
    leading apostrophe (OWASP's advice for CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _rate_table(table: Table) -> dict[str, Any]:
    return WORKER_RATES_BY_KEY if table.score_kind == ScoreKind.WORKER else RATES_BY_KEY


def _header(table: Table) -> list[str]:
    rates = _rate_table(table)
    counts = [str(COUNT_LABELS.get(k) or _EXTRA_COUNTS.get(k, k)) for k in table.count_keys]
    return [
        str(BY_COLUMNS[table.by]),
        *counts,
        *(f"{rates[k].label}(%)" for k in table.rate_keys),
        _("得分"),
        _("上期得分"),
    ]


def _cells(table: Table) -> list[list[Any]]:
    out = []
    for row in [*table.rows, table.total]:
        out.append([
            row.label,
            *(row.counts.get(k, 0) for k in table.count_keys),
            *(_num(row.rates.get(k)) for k in table.rate_keys),
            _num(row.score),
            _num(row.prev_score),
        ])
    return out


def _num(v: Decimal | None) -> float | str:
    return "—" if v is None else float(v)


def _preamble(table: Table, place: Region | None) -> list[list[str]]:
    rates = _rate_table(table)
    title = _("综合评价考核表（%(by)s）") % {"by": BY_CHOICES[table.by]}
    weights = "，".join(f"{rates[k].label} {w}%" for k, w in table.weights.items() if k in rates)
    lines = [
        [title],
        [_("统计周期：%(p)s（%(s)s 至 %(e)s）") % {
            "p": table.period.label(), "s": table.period.start, "e": table.period.end}],
        [_("区域：%(r)s") % {"r": place.name if place else _("全部")}],
        [_("得分 = Σ 权重 × 指标 ÷ Σ 权重（返工率、延期率、回退率按 100 − 指标计）；权重：%(w)s")
         % {"w": weights}],
    ]
    for key in table.rate_keys:
        lines.append([f"{rates[key].label} = {rates[key].formula}"])
    lines.append([_("导出时间：%(t)s") % {"t": timezone.localtime().strftime("%Y-%m-%d %H:%M")}])
    return lines


def sheet_response(table: Table, *, fmt: str, place: Region | None) -> HttpResponse:
    name = f"assessment-{table.by}-{table.period.start:%Y%m%d}-{table.period.end:%Y%m%d}"
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        for line in [*_preamble(table, place), [], _header(table), *_cells(table)]:
            writer.writerow([safe(v) for v in line])
        response = HttpResponse(
            "\ufeff" + buf.getvalue(), content_type="text/csv; charset=utf-8"
        )
    else:
        response = HttpResponse(
            xlsx_bytes(table, place),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        fmt = "xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def xlsx_bytes(table: Table, place: Region | None) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = str(BY_COLUMNS[table.by])[:31]
    preamble = _preamble(table, place)
    for line in preamble:
        ws.append([safe(v) for v in line])
    ws["A1"].font = Font(bold=True, size=14)
    header_row = len(preamble) + 2
    ws.append([])
    ws.append(_header(table))
    for cell in ws[header_row]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for line in _cells(table):
        ws.append([safe(v) for v in line])
    ws.freeze_panes = ws.cell(row=header_row + 1, column=2)
    ws.column_dimensions["A"].width = 22
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
