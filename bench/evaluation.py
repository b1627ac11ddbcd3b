"""Evaluation (综合评价) at 10,000 and at 1,000,000 cases on PostgreSQL.

Creates its own database (BENCH_EVAL_DB, default jzt_h9_bench_eval; dropped at the end
unless BENCH_KEEP_DB=1), fills it with the case generator (``manage.py generate_cases``:
10,000 cases over 365 days, then 990,000 more), rebuilds the rollups after each with
``rollups_rebuild`` (the set-based statement of evaluation/rollup_sql.py on PostgreSQL;
timed: cases per second, printed as rollup_rebuild_cases_per_s_<size>), runs VACUUM
ANALYZE on the cases, events and rollup tables, and prints the p95 over 20 requests
(Django test client as the generator's superuser, after 3 warm-up requests) of

- the city-wide monthly table by street (``/evaluation/?by=street``, last full month),
- the city-wide monthly table by department (``by=department``),
- the leader's screen data for the city (``/evaluation/screen.json``, last full month),

at both sizes, and the ratio large / 10k (targets: < 300 ms, ratio ≤ 1.5).
BENCH_EVAL_LARGE changes the large size; BENCH_EXPLAIN=1 prints the slowest query's plan;
BENCH_EVAL_MEASURE_ONLY=1 (with BENCH_KEEP_DB=1) only measures the pages at the size the
kept database has.
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DB = os.environ.get("BENCH_EVAL_DB", "jzt_h9_bench_eval")
SMALL = 10_000
LARGE = int(os.environ.get("BENCH_EVAL_LARGE", "1000000"))
REQUESTS = 20
WARM_UP = 3


def metric(name: str, value: float, unit: str) -> None:
    print(f"{name}: {value:.3f} {unit}" if value < 100 else f"{name}: {value:.0f} {unit}",
          flush=True)


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


def setup(keep: bool) -> bool:
    """Point Django at a fresh (or kept) PostgreSQL database; True when it already has data."""
    import psycopg

    sys.path.insert(0, str(ROOT))
    try:
        admin = psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True)
    except psycopg.OperationalError:
        return False
    exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB]).fetchone()
    if exists and not keep:
        admin.execute(f'DROP DATABASE "{DB}" WITH (FORCE)')
        exists = None
    if not exists:
        admin.execute(f'CREATE DATABASE "{DB}"')
    admin.close()
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DB}"
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jinzhitong.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return bool(exists)


def drop() -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')


def vacuum() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("reports_report", "reports_reportevent", "evaluation_dailyrollup",
                      "evaluation_monthlyrollup", "evaluation_workerdailyrollup",
                      "evaluation_dailystreetrollup", "evaluation_monthlycategoryrollup",
                      "evaluation_monthlygridrollup"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def generate(count: int) -> None:
    from django.core.management import call_command

    out = io.StringIO()
    call_command("generate_cases", count=count, days=365, seed=count, stdout=out)
    print("# " + out.getvalue().strip().replace("\n", "\n# "), flush=True)


def rebuild(label: str) -> None:
    from django.db import connection

    from evaluation.services import rollups_rebuild
    from reports.models import Report

    cases = Report.objects.count()
    start = time.perf_counter()
    events = rollups_rebuild()
    seconds = time.perf_counter() - start
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM evaluation_dailyrollup")
        rows = cursor.fetchone()[0]
    print(f"# {label}: {cases} cases, {events} events folded, {rows} rollup rows", flush=True)
    metric(f"rollup_rebuild_cases_per_s_{label}", cases / seconds, "cases/s")


def explain_slowest(client: Any, url: str) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    slowest = max(ctx.captured_queries, key=lambda q: float(q["time"]))
    print(f"# slowest query of {url} ({float(slowest['time']) * 1000:.1f} ms, "
          f"{len(ctx.captured_queries)} queries):")
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest["sql"])
        for (line,) in cursor.fetchall():
            print(f"#   {line}")


def measure(label: str) -> dict[str, float]:
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from accounts.models import User

    user = User.objects.filter(is_superuser=True).order_by("pk").first()
    assert user is not None
    client = Client()
    client.force_login(user)
    last_month = timezone.localdate().replace(day=1) - timedelta(days=1)
    month = f"period=month&date={last_month:%Y-%m-01}"
    stats = reverse("evaluation:stats")
    pages = {
        "street_table": f"{stats}?{month}&by=street",
        "department_table": f"{stats}?{month}&by=department",
        "screen_json": f"{reverse('evaluation:screen_json')}?{month}",
    }
    results: dict[str, float] = {}
    for name, url in pages.items():
        for _ in range(WARM_UP):
            response = client.get(url)
            assert response.status_code == 200, (name, response.status_code)
        samples = []
        for _ in range(REQUESTS):
            start = time.perf_counter()
            client.get(url)
            samples.append((time.perf_counter() - start) * 1000)
        results[name] = p95(samples)
        metric(f"{name}_p95_{label}", results[name], "ms")
        if os.environ.get("BENCH_EXPLAIN") == "1":
            explain_slowest(client, url)
    return results


def main() -> None:
    keep = os.environ.get("BENCH_KEEP_DB") == "1"
    if not setup(keep) and "DATABASE_URL" not in os.environ:
        print("skipped: PostgreSQL is not reachable on 127.0.0.1:5432")
        return
    from django.test.utils import setup_test_environment

    from reports.models import Report

    setup_test_environment()
    if os.environ.get("BENCH_EVAL_MEASURE_ONLY") == "1":
        measure(f"{Report.objects.count() // 1000}k")
        return
    try:
        small_label, large_label = "10k", f"{LARGE // 1000}k"
        if Report.objects.count() < SMALL:
            generate(SMALL - Report.objects.count())
            vacuum()
        rebuild(small_label)
        vacuum()
        small = measure(small_label)
        if Report.objects.count() < LARGE:
            generate(LARGE - Report.objects.count())
            vacuum()
        rebuild(large_label)
        vacuum()
        large = measure(large_label)
        for name in small:
            metric(f"{name}_ratio_{large_label}_over_10k", large[name] / small[name], "x")
    finally:
        if not keep:
            drop()


if __name__ == "__main__":
    main()
