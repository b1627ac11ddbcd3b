"""How long writers wait while an index is built on a case-sized table: plain
``CREATE INDEX`` against ``CREATE INDEX CONCURRENTLY`` (jinzhitong/migration_ops.py).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<scratch db> \\
        .venv/bin/python bench/index_lock.py [--rows 300000]

Copies ``reports_report``'s columns into a scratch table ``bench_index_lock`` (dropped at
the end), fills it with ``--rows`` synthetic cases, then for each way of building an
index on ``(street_id, state, created_at)`` runs a writer that inserts one case at a time
and prints the longest single insert while the index was built
(``writer_max_stall_ms``), the build's own time and how many inserts got through.
"""

from __future__ import annotations

import argparse
import os
import threading
import time

import psycopg

TABLE = "bench_index_lock"


def _fill(conn: psycopg.Connection, rows: int) -> None:
    conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
    conn.execute(
        f"""CREATE TABLE {TABLE} (
            id bigserial PRIMARY KEY, street_id bigint NOT NULL, state varchar(16) NOT NULL,
            created_at timestamptz NOT NULL, description text NOT NULL)"""
    )
    conn.execute(
        f"""INSERT INTO {TABLE} (street_id, state, created_at, description)
            SELECT g %% 300, (ARRAY['reported','accepted','dispatched','closed'])[g %% 4 + 1],
                   now() - (g || ' minutes')::interval, repeat('楼顶有一棵小树', 12)
            FROM generate_series(1, %s) g""",
        [rows],
    )
    conn.execute(f"VACUUM ANALYZE {TABLE}")


def _measure(url: str, build: str) -> tuple[float, float, int]:
    stop = threading.Event()
    stalls: list[float] = []

    def writer() -> None:
        with psycopg.connect(url, autocommit=True) as w:
            while not stop.is_set():
                t = time.perf_counter()
                w.execute(
                    f"INSERT INTO {TABLE} (street_id, state, created_at, description) "
                    "VALUES (1, 'reported', now(), 'bench')"
                )
                stalls.append(time.perf_counter() - t)
                time.sleep(0.005)

    thread = threading.Thread(target=writer)
    thread.start()
    time.sleep(0.5)
    with psycopg.connect(url, autocommit=True) as conn:
        t = time.perf_counter()
        conn.execute(build)
        built = time.perf_counter() - t
        conn.execute("DROP INDEX IF EXISTS bench_index_lock_idx")
    time.sleep(0.3)
    stop.set()
    thread.join()
    return max(stalls) * 1000, built * 1000, len(stalls)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=300_000)
    args = parser.parse_args()
    url = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=True) as conn:
        _fill(conn, args.rows)
    cols = f"{TABLE} (street_id, state, created_at)"
    try:
        for label, sql in (
            ("plain", f"CREATE INDEX bench_index_lock_idx ON {cols}"),
            ("concurrently", f"CREATE INDEX CONCURRENTLY bench_index_lock_idx ON {cols}"),
        ):
            stall, built, inserts = _measure(url, sql)
            print(f"{label}_writer_max_stall_ms: {stall:.0f}")
            print(f"{label}_build_ms: {built:.0f}")
            print(f"{label}_inserts_during_build: {inserts}")
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
    print(f"rows: {args.rows}")


if __name__ == "__main__":
    main()
