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


# --- PostgreSQL ------------------------------------------------------------------------
# Benchmarks that need PostgreSQL create their own database on the local server (user
# postgres, trust authentication) and drop it afterwards; BENCH_KEEP_DB=1 keeps it (and
# reuses it on the next run) so a second measurement does not regenerate the data.

PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgresql://postgres@127.0.0.1:5432")


def pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", connect_timeout=3):
            return True
    except Exception:  # any failure means "no PostgreSQL here"
        return False


def keep_db() -> bool:
    return os.environ.get("BENCH_KEEP_DB", "") == "1"


def setup_django_postgres(name: str) -> bool:
    """Configure Django against database ``name`` (created if missing) and migrate it.

    Returns True when the database already existed (only possible with BENCH_KEEP_DB=1;
    otherwise an existing one is dropped first)."""
    import psycopg

    sys.path.insert(0, str(ROOT))
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and not keep_db():
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = f"{PG_SERVER}/{name}"
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jinzhitong.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return bool(exists)


def drop_postgres(name: str) -> None:
    if keep_db():
        return
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
