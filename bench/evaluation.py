"""Evaluation (综合评价) at 10,000 and at 1,000,000 cases on PostgreSQL.

Creates its own database (BENCH_EVAL_DB, default jzt_h9_bench_eval; dropped at the end
unless BENCH_KEEP_DB=1), fills it with the case generator (``manage.py generate_cases``:
10,000 cases over 365 days, then 990,000 more), rebuilds the rollups after each with
``rollups_rebuild`` (the set-based statement of evaluation/rollup_sql.py on PostgreSQL;
timed: cases per second, printed as rollup_rebuild_cases_per_s_<size>), runs VACUUM
ANALYZE on the cases, events and rollup tables, and prints the p95 over 40 requests
(Django test client as the generator's superuser, after 3 warm-up rounds) of

- the city-wide monthly table by street (``/evaluation/?by=street``, last full month),
- the city-wide monthly table by department (``by=department``),
- the leader's screen data for the city (``/evaluation/screen.json``, last full month),

at both sizes, and the ratio large / 10k (targets: < 300 ms, ratio ≤ 1.5). The 10k city
is copied to its own database (``<DB>_10k``, ``CREATE DATABASE … TEMPLATE``) before the
database grows, and the two sizes take turns request by request, so load from other
jobs on a shared machine falls on both alike (one after the other, a burst during one
size's 20 requests moved a ratio by ±0.5).
BENCH_EVAL_LARGE changes the large size; BENCH_EXPLAIN=1 prints the slowest query's plan;
BENCH_EVAL_MEASURE_ONLY=1 (with BENCH_KEEP_DB=1, which also keeps ``<DB>_10k``) only
measures the pages of the kept databases.
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
REQUESTS = 40
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


def _pages() -> dict[str, str]:
    from django.urls import reverse
    from django.utils import timezone

    last_month = timezone.localdate().replace(day=1) - timedelta(days=1)
    month = f"period=month&date={last_month:%Y-%m-01}"
    stats = reverse("evaluation:stats")
    return {
        "street_table": f"{stats}?{month}&by=street",
        "department_table": f"{stats}?{month}&by=department",
        "screen_json": f"{reverse('evaluation:screen_json')}?{month}",
    }


def _use(name: str) -> None:
    """Point the default connection at another database (reconnects on next query)."""
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name


def _client() -> Any:
    from django.test import Client

    from accounts.models import User

    user = User.objects.filter(is_superuser=True).order_by("pk").first()
    assert user is not None
    client = Client()
    client.force_login(user)
    return client


def measure(label: str) -> dict[str, float]:
    """p95 of each page at the database's one size (BENCH_EVAL_MEASURE_ONLY)."""
    client = _client()
    results: dict[str, float] = {}
    for name, url in _pages().items():
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


def measure_in_turns(databases: dict[str, str]) -> dict[str, dict[str, float]]:
    """p95 of each page at each size, the sizes and pages taking turns request by
    request: a burst of load from other jobs on the shared machine falls on both sizes
    alike, so the ratio compares the sizes rather than two moments."""
    clients = {}
    for label, name in databases.items():
        _use(name)
        clients[label] = _client()
    pages = _pages()
    samples: dict[str, dict[str, list[float]]] = {label: {} for label in databases}
    for round_ in range(-WARM_UP, REQUESTS):
        for label, name in databases.items():
            _use(name)
            for page, url in pages.items():
                start = time.perf_counter()
                response = clients[label].get(url)
                elapsed = (time.perf_counter() - start) * 1000
                assert response.status_code == 200, (page, response.status_code)
                if round_ >= 0:
                    samples[label].setdefault(page, []).append(elapsed)
    results: dict[str, dict[str, float]] = {}
    for label, by_page in samples.items():
        results[label] = {page: p95(times) for page, times in by_page.items()}
        for page, value in results[label].items():
            metric(f"{page}_p95_{label}", value, "ms")
            metric(f"{page}_p50_{label}", statistics.median(by_page[page]), "ms")
    if os.environ.get("BENCH_EXPLAIN") == "1":
        for label, name in databases.items():
            _use(name)
            for url in pages.values():
                explain_slowest(clients[label], url)
    return results


def _exists(name: str) -> bool:
    import psycopg

    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
        return bool(c.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone())


def _copy_database(source: str, target: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')


def main() -> None:
    keep = os.environ.get("BENCH_KEEP_DB") == "1"
    if not setup(keep) and "DATABASE_URL" not in os.environ:
        print("skipped: PostgreSQL is not reachable on 127.0.0.1:5432")
        return
    from django.test.utils import setup_test_environment

    from reports.models import Report

    setup_test_environment()
    small_db = f"{DB}_10k"
    if os.environ.get("BENCH_EVAL_MEASURE_ONLY") == "1":
        if _exists(small_db):  # kept from a full run: both sizes, in turns
            results = measure_in_turns({"10k": small_db, f"{LARGE // 1000}k": DB})
            small, large = results.values()
            for name in small:
                metric(f"{name}_ratio_{LARGE // 1000}k_over_10k", large[name] / small[name],
                       "x")
        else:
            measure(f"{Report.objects.count() // 1000}k")
        return
    try:
        small_label, large_label = "10k", f"{LARGE // 1000}k"
        if Report.objects.count() < SMALL:
            generate(SMALL - Report.objects.count())
            vacuum()
        rebuild(small_label)
        vacuum()
        # The 10k city stays in its own database while this one grows to the large size.
        _copy_database(DB, small_db)
        if Report.objects.count() < LARGE:
            generate(LARGE - Report.objects.count())
            vacuum()
        rebuild(large_label)
        vacuum()
        results = measure_in_turns({small_label: small_db, large_label: DB})
        for name in results[small_label]:
            metric(f"{name}_ratio_{large_label}_over_10k",
                   results[large_label][name] / results[small_label][name], "x")
    finally:
        import psycopg
        from django.db import connections

        connections.close_all()
        if not keep:
            with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres",
                                 autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{small_db}" WITH (FORCE)')
            drop()


if __name__ == "__main__":
    main()
