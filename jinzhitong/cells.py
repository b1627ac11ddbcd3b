"""Spreadsheet cells that can never become live formulas (CSV/formula injection).

Every CSV or XLSX file the platform writes passes its text cells through
``escape_formula``; every file it reads passes them through ``unescape_formula``, so a
name such as ``=HYPERLINK("http://x","y")`` is shown as text in Excel and WPS, while the
stored value is never altered and an exported file re-imports to identical values.

A cell is dangerous when, after any leading whitespace, it starts with ``= + - @``, or
when it starts with a tab or carriage return (OWASP "CSV Injection"). Such a cell gets one
leading apostrophe. A value that already starts with apostrophes followed by a dangerous
start gets one more, so that stripping exactly one on import always gives back the value.
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = frozenset("=+-@")
QUOTE = "'"


def _dangerous(text: str) -> bool:
    if text[:1] in ("\t", "\r"):
        return True
    return text.lstrip(" \t\r\n")[:1] in FORMULA_STARTS


def escape_formula(value: Any) -> Any:
    """The cell to write: text that a spreadsheet would evaluate gets a leading ``'``."""
    if isinstance(value, str) and value and _dangerous(value.lstrip(QUOTE)):
        return QUOTE + value
    return value


def unescape_formula(value: Any) -> Any:
    """The value ``escape_formula`` was given, from the cell it wrote."""
    if isinstance(value, str) and value.startswith(QUOTE) and _dangerous(value.lstrip(QUOTE)):
        return value[1:]
    return value
