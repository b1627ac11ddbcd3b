"""generate_cases on PostgreSQL: cases per second (with their events, photos and requests).

Creates its own database (jzt_bench_gen, or BENCH_GENERATE_DB), builds the Tianjin-sized
world (tree, departments, rules, users) with a first small run, then times 200,000 cases
and prints the command's own ``cases_per_s`` line. Skips with a message when PostgreSQL is
unreachable.
"""

from __future__ import annotations

import io
import os

from _common import drop_postgres, metric, pg_available, setup_django_postgres

DB = os.environ.get("BENCH_GENERATE_DB", "jzt_bench_gen")
COUNT = int(os.environ.get("BENCH_GENERATE_COUNT", "200000"))


def main() -> None:
    if not pg_available():
        print("skipped: PostgreSQL is not reachable on 127.0.0.1:5432")
        return
    setup_django_postgres(DB)
    try:
        from django.core.management import call_command

        from casegen.generator import TreeShape, generate_cases

        call_command("generate_cases", "--count", "1000", "--seed", "1", stdout=io.StringIO())
        result = generate_cases(count=COUNT, seed=2, shape=TreeShape())
        metric("generated_cases", result.cases, "cases")
        metric("generated_events", result.events, "events")
        print(f"cases_per_s: {result.per_second:.0f} cases/s", flush=True)
    finally:
        drop_postgres(DB)


if __name__ == "__main__":
    main()
