"""The admin case list at 10,000 and at 1,000,000 cases on PostgreSQL.

Creates its own database (jzt_bench_admin), fills it with ``generate_cases`` (10,000
cases, then 990,000 more), runs VACUUM ANALYZE after each, and prints the p95 over 40
requests (Django test client, logged in, after 5 warm-up requests each; the four pages
take turns, so a burst of load on this shared machine hits all of them alike) of:

- the case list as a superuser, and as a street center's staff;
- a search by a full case number, and by a number prefix (district code and year);

at both sizes, and the ratio 1m / 10k (target ≤ 1.3).

A full page at both sizes. Spread over ~300 streets, 10,000 cases give a street 33: its
list at 10k showed a third of a page, at 1m a full page of 100, and the ratio measured
rendering 3x the rows, not the growth of history. So 100 of the first 10,000 cases are
generated in the measured street (``generate_cases --in-street``, spread over the same
year as the rest): its list shows 100 rows at both sizes, and the other three pages
(the whole city) are full anyway.

The p95 of the SQL time of each request (sum of its queries) is printed too, with its
ratio: it does not include rendering, the part that a loaded machine makes noisy.
BENCH_EXPLAIN=1 also prints the plan of the slowest SQL query of each page at 1,000,000.
BENCH_KEEP_DB=1 keeps the database and reuses it next time (skips generation when it is
already full, and then measures only the 1m figures); BENCH_ADMIN_DB names another
database.
"""

from __future__ import annotations

import io
import os
import statistics
import time
from typing import Any

from _common import drop_postgres, metric, pg_available, setup_django_postgres

DB = os.environ.get("BENCH_ADMIN_DB", "jzt_bench_admin")
SMALL = 10_000
PAGE = 100  # ReportAdmin.list_per_page
LARGE = int(os.environ.get("BENCH_ADMIN_LARGE", "1000000"))
REQUESTS = int(os.environ.get("BENCH_ADMIN_REQUESTS", "40"))
WARM_UP = 5


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


def vacuum_analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("reports_report", "reports_reportevent", "reports_reportphoto"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def explain_slowest(client: Any, url: str) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    # Only reads can be explained (a slow COMMIT of the session save is noise).
    reads = [q for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    slowest = max(reads, key=lambda q: float(q["time"]))
    print(f"# slowest query of {url} ({float(slowest['time']) * 1000:.1f} ms):")
    print(f"#   {slowest['sql'][:400]}")
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest["sql"])
        for (line,) in cursor.fetchall():
            print(f"#   {line}")


def measured_staff() -> Any:
    """The street center's staff member whose list is measured (any street will do)."""
    from accounts.models import User
    from grids.models import Role

    staff = (
        User.objects.filter(assignments__role=Role.STREET_STAFF)
        .order_by("username")
        .first()
    )
    assert staff is not None
    return staff


def measure(label: str) -> dict[str, float]:
    from django.contrib.auth.models import Permission
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from accounts.models import User
    from reports.models import Report

    url = reverse("admin:reports_report_changelist")
    superuser = User.objects.get(username="gen_admin")
    staff = measured_staff()
    # Delegated admin: the center's staff may view cases in the admin (their own only).
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    staff.user_permissions.add(Permission.objects.get(codename="view_report"))
    # A case from the middle of the history, and the prefix of its district and year:
    # a full page of matches at both sizes (and a capped count at 1m).
    middle = Report.objects.order_by("id")[Report.objects.count() // 2]
    prefix = middle.number[: middle.number.index("-") + 5]
    su, st = Client(), Client()
    su.force_login(superuser)
    st.force_login(staff)
    pages = {
        "admin_list_superuser": (su, url),
        "admin_list_street_staff": (st, url),
        "admin_search_exact": (su, f"{url}?q={middle.number}"),
        "admin_search_prefix": (su, f"{url}?q={prefix}"),
    }
    for name, (client, page) in pages.items():
        for _ in range(WARM_UP):
            response = client.get(page)
            assert response.status_code == 200, (name, response.status_code)
    samples: dict[str, list[float]] = {name: [] for name in pages}
    sql: dict[str, list[float]] = {name: [] for name in pages}
    for _ in range(REQUESTS):
        for name, (client, page) in pages.items():
            with CaptureQueriesContext(connection) as ctx:
                start = time.perf_counter()
                client.get(page)
                samples[name].append((time.perf_counter() - start) * 1000)
            sql[name].append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)
    results: dict[str, float] = {}
    for name, (client, page) in pages.items():
        results[name] = p95(samples[name])
        results[f"{name}_sql"] = p95(sql[name])
        metric(f"{name}_p95_{label}", results[name], "ms")
        # The median too: on a shared machine one slow request moves the p95.
        metric(f"{name}_p50_{label}", statistics.median(samples[name]), "ms")
        metric(f"{name}_sql_p95_{label}", results[f"{name}_sql"], "ms")
        if label != "10k" and os.environ.get("BENCH_EXPLAIN") == "1":
            explain_slowest(client, page)
    return results


def main() -> None:
    if not pg_available():
        print("skipped: PostgreSQL is not reachable on 127.0.0.1:5432")
        return
    reused = setup_django_postgres(DB)
    try:
        from django.core.management import call_command
        from django.test.utils import setup_test_environment

        from reports.models import Report

        setup_test_environment()  # the test client's host, in-memory e-mail
        have = Report.objects.count() if reused else 0
        if have < SMALL - PAGE:
            call_command("generate_cases", "--count", str(SMALL - PAGE - have), "--seed", "1",
                         stdout=io.StringIO())
        if have < SMALL:
            # A full page of history for the measured street (see the docstring).
            street = measured_staff().assignments.get().region.code
            call_command("generate_cases", "--count", str(SMALL - Report.objects.count()),
                         "--seed", "3", "--in-street", street, stdout=io.StringIO())
        if have <= SMALL:
            vacuum_analyze()
            small = measure("10k")
        else:
            small = {}
        have = Report.objects.count()
        if have < LARGE:
            out = io.StringIO()
            call_command("generate_cases", "--count", str(LARGE - have), "--seed", "2",
                         stdout=out)
            print(out.getvalue().strip().splitlines()[-1], flush=True)
        vacuum_analyze()
        large = measure("1m")
        for name, value in small.items():
            metric(f"{name}_ratio", large[name] / value, "x")
    finally:
        drop_postgres(DB)


if __name__ == "__main__":
    main()
