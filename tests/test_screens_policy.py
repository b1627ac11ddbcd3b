"""docs/screens is tracked: only `make screens` (tests/e2e/test_screens.py) writes it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_it_keeps_browser_tests_out_of_docs_screens() -> None:
    writers = [
        p.name
        for p in (ROOT / "tests/e2e").glob("*.py")
        # A path into docs/ in code (a string literal), not in a docstring's prose.
        if p.name != "test_screens.py" and re.search(r"[\"']docs", p.read_text(encoding="utf-8"))
    ]
    assert writers == []


def test_it_leaves_the_screens_run_out_of_the_normal_suite() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "-m 'not screens'" in config["tool"]["pytest"]["ini_options"]["addopts"]
    assert "\nscreens:" in (ROOT / "Makefile").read_text(encoding="utf-8")
