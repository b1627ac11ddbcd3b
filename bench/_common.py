"""Shared set-up for benchmarks: Django on a fresh, temporary SQLite database.

Each benchmark runs alone (`.venv/bin/python bench/<name>.py`) and prints one
`metric: value unit` line per figure.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django() -> None:
    """Configure Django against a new empty SQLite file and migrate it."""
    sys.path.insert(0, str(ROOT))
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jinzhitong.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    from django.conf import settings

    tmp = tempfile.mkdtemp(prefix="jzt-bench-")
    settings.DATABASES["default"]["NAME"] = str(Path(tmp) / "bench.sqlite3")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def metric(name: str, value: float, unit: str) -> None:
    if isinstance(value, float):
        text = f"{value:.3f}" if value < 100 else f"{value:.0f}"
    else:
        text = str(value)
    print(f"{name}: {text} {unit}", flush=True)


@contextmanager
def timer() -> Iterator[list[float]]:
    box: list[float] = []
    start = time.perf_counter()
    yield box
    box.append(time.perf_counter() - start)
