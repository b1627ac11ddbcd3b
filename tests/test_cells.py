"""Formula escaping of spreadsheet cells: dangerous text gets one apostrophe, reversibly."""

from __future__ import annotations

import pytest

from jinzhitong.cells import escape_formula, unescape_formula


@pytest.mark.parametrize(
    "value",
    [
        '=HYPERLINK("http://x","y")',
        "+1+1",
        "-2+3",
        "@SUM(A1)",
        "  =1+1",
        "\t=1+1",
        "\tplain",
        "\rplain",
        " \t @x",
        "'=already quoted",
        "''+twice",
    ],
)
def test_it_escapes_what_a_spreadsheet_would_evaluate(value: str) -> None:
    escaped = escape_formula(value)

    assert escaped == "'" + value
    assert unescape_formula(escaped) == value


@pytest.mark.parametrize("value", ["万兴街道", "", "a=b", "'quoted", "1-2", 5, None])
def test_it_leaves_harmless_cells_alone(value: object) -> None:
    assert escape_formula(value) == value
    assert unescape_formula(value) == value
