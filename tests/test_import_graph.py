"""Imports run one way: tools/check_imports.py fails on any cycle between project
modules, function-level imports included."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
CHECKER = ROOT / "tools" / "check_imports.py"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CHECKER), *args], capture_output=True, text=True, timeout=60
    )


def _package(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_it_names_a_cycle_hidden_in_a_function_level_import(tmp_path: Path) -> None:
    _package(
        tmp_path,
        {
            "shop/__init__.py": "",
            "shop/services.py": "from shop import workflow\n",
            "shop/workflow.py": "def f():\n    from shop.services import g\n    return g\n",
        },
    )
    result = _run("--root", str(tmp_path), "shop")
    assert result.returncode == 1
    assert "shop.services -> shop.workflow -> shop.services" in result.stdout


def test_it_ignores_imports_only_for_type_checking(tmp_path: Path) -> None:
    _package(
        tmp_path,
        {
            "shop/__init__.py": "",
            "shop/services.py": "from shop import workflow\n",
            "shop/workflow.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from shop.services import g\n"
            ),
        },
    )
    assert _run("--root", str(tmp_path), "shop").returncode == 0


def test_it_finds_no_cycle_in_the_project() -> None:
    result = _run()
    assert result.returncode == 0, result.stdout
