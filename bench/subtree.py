"""Subtree queries on a 5-level tree of ~50,000 nodes.

"Everything under this street/district" must be one indexed range query whatever the
subtree's size. Prints the SQL queries per subtree read and the time per subtree, for
streets (~170 nodes below) and districts (~3,500 nodes below).
"""

from __future__ import annotations

import random
import time

from _common import metric, setup_django


def main() -> None:
    setup_django()
    from _tree import build_city
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from grids.models import Level, Region
    from grids.selectors import subtree_q

    build_city(districts=16, streets=320, communities=4_480, grids=44_800)
    total = Region.objects.count()
    rnd = random.Random(7)

    for level, label, samples in ((Level.STREET, "street", 200), (Level.DISTRICT, "district", 16)):
        roots = list(Region.objects.filter(level=level))
        picks = [rnd.choice(roots) for _ in range(samples)]
        rows = 0
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            for root in picks:
                # The grids under the root: what a street center's map and lists read.
                rows += len(
                    list(
                        Region.objects.filter(subtree_q([root]), level=Level.GRID).values_list(
                            "id", "code"
                        )
                    )
                )
            elapsed = time.perf_counter() - t0
        metric(f"{label}_subtree_queries", len(ctx.captured_queries) / samples, "queries/subtree")
        metric(f"{label}_subtree_ms", elapsed / samples * 1000, "ms/subtree")
        metric(f"{label}_subtree_rows", rows / samples, "rows/subtree")
    metric("tree_nodes", total, "count")


if __name__ == "__main__":
    main()
