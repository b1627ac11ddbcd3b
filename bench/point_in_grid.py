"""Point-in-grid: index build from the database and single-point lookups.

51,200 synthetic grid polygons (>= 50,000) (16 vertices each) in a lattice; lookups are random
points over the lattice's extent (about 5% fall outside every grid). Prints:
index_build_s (loading every boundary from the database included), lookups_per_s
(GridIndex.locate, one point per call), and the raw shapely STRtree figure for the
same points so the wrapper's cost is visible.
"""

from __future__ import annotations

import random
import time

from _common import metric, setup_django

GRIDS = 51_200
LOOKUPS = 200_000
CELL = 0.002


def main() -> None:
    setup_django()
    import shapely
    from _tree import build_city

    from grids import geo

    shape = build_city(districts=16, streets=320, communities=5_120, grids=GRIDS, cell=CELL)
    grids = shape["level4"]
    cols = shape["cols"]
    rows = grids // cols + 1

    t0 = time.perf_counter()
    index = geo.build_index()
    build_s = time.perf_counter() - t0

    rnd = random.Random(42)
    x0, y0 = 116.8, 38.6
    points = [
        (x0 + rnd.uniform(-0.02, cols * CELL + 0.02), y0 + rnd.uniform(0, rows * CELL))
        for _ in range(LOOKUPS)
    ]
    locate = index.locate
    t0 = time.perf_counter()
    hits = 0
    for lng, lat in points:
        if locate(lng, lat) is not None:
            hits += 1
    lookup_s = time.perf_counter() - t0

    tree = index._tree
    t0 = time.perf_counter()
    for lng, lat in points:
        tree.query(shapely.Point(lng, lat), predicate="intersects")
    raw_s = time.perf_counter() - t0

    metric("grids", len(index), "count")
    metric("index_build_s", build_s, "s")
    metric("lookups_per_s", LOOKUPS / lookup_s, "lookups/s")
    metric("strtree_public_query_lookups_per_s", LOOKUPS / raw_s, "lookups/s")
    metric("wrapper_overhead", (lookup_s / raw_s - 1) * 100, "%")
    metric("hit_ratio", hits / LOOKUPS * 100, "%")


if __name__ == "__main__":
    main()
