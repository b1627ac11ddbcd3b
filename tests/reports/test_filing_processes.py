"""Four processes filing at once on one SQLite file, as a checkout without Redis runs
(DATABASE_URL=sqlite:///…, tasks in-process): every case is filed and routed."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
SCRIPT = Path(__file__).with_name("filing_script.py")

pytestmark = pytest.mark.processes

PROCESSES = 4
CASES_EACH = 40


def _env(db: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items()
        if k not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE", "PYTEST_XDIST_WORKER")
    }
    env.update(
        DATABASE_URL=f"sqlite:///{db}",
        DJANGO_SETTINGS_MODULE="jinzhitong.settings",
        JZT_ROOT=str(ROOT),
        PYTHONPATH=str(ROOT),
    )
    return env


def test_it_leaves_no_case_unrouted_when_processes_file_at_once(tmp_path: Path) -> None:
    db = tmp_path / "x.sqlite3"
    env = _env(db)
    # Migrate the empty file and seed a grid, a worker per process and an auto rule.
    subprocess.run([sys.executable, str(SCRIPT), "seed"], env=env, check=True, timeout=120)

    filers = [
        subprocess.Popen(
            [sys.executable, str(SCRIPT), "file", str(n), str(CASES_EACH)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for n in range(PROCESSES)
    ]
    for filer in filers:
        _out, err = filer.communicate(timeout=120)
        assert filer.returncode == 0, err[-2000:]

    with sqlite3.connect(db) as conn:
        (filed,) = conn.execute("SELECT COUNT(*) FROM reports_report").fetchone()
        (unrouted,) = conn.execute(
            "SELECT COUNT(*) FROM reports_report WHERE routed_version < route_version"
        ).fetchone()
        (dispatched,) = conn.execute(
            "SELECT COUNT(*) FROM reports_report WHERE state = 'dispatched'"
        ).fetchone()
    assert filed == PROCESSES * CASES_EACH
    assert unrouted == 0
    assert dispatched == filed


def test_it_keeps_the_sqlite_options_when_the_url_names_a_file(tmp_path: Path) -> None:
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.DATABASES['default']['OPTIONS']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=_env(tmp_path / "y.sqlite3"), cwd=ROOT,
        capture_output=True, text=True, check=True, timeout=60,
    )
    options = json.loads(result.stdout)
    assert options["transaction_mode"] == "IMMEDIATE" and options["timeout"] == 20
