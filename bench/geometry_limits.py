"""Bounded geometry work: what the boundary limits cost and what they refuse.

Prints the time of ``grids.geo.normalize_boundary`` on a random ring
(``shapely.Polygon(random points)``, which crosses itself ~n²/10 times) of 400 and
5,000 vertices — refused by the self-crossing pre-check — and on a 4,000-vertex ring
with 150 / 199 crossings, which is repaired. For comparison it also times GEOS's
repair of the 200-vertex random ring by the old method ("linework") and the new one
("structure"); the 400-vertex ring took 39-47 s by "linework".
"""

from __future__ import annotations

import math
import random
from typing import Any

import shapely
from _common import metric, setup_django, timer


def random_ring(n: int) -> dict[str, Any]:
    rng = random.Random(1)
    points = [[117 + rng.random() * 0.01, 39 + rng.random() * 0.01] for _ in range(n)]
    return {"type": "Polygon", "coordinates": [[*points, points[0]]]}


def zigzag_ring(n: int, crossings: int) -> dict[str, Any]:
    points = [
        [117 + 0.01 * math.cos(2 * math.pi * i / n), 39 + 0.01 * math.sin(2 * math.pi * i / n)]
        for i in range(n)
    ]
    for j in range(crossings):
        i = j * (n // crossings) + 1
        points[i], points[i + 1] = points[i + 1], points[i]
    return {"type": "Polygon", "coordinates": [[*points, points[0]]]}


def main() -> None:
    setup_django()
    from grids import geo

    for n in (400, 5_000):
        with timer() as t:
            try:
                geo.normalize_boundary(random_ring(n - 1))
            except geo.BoundaryError:
                pass
            else:
                raise AssertionError("a random ring was accepted")
        metric(f"refuse_random_{n}_vertices_s", t[0], "s")
    for k in (150, 199):
        with timer() as t:
            result = geo.normalize_boundary(zigzag_ring(4_000, k))
        assert result.warnings
        metric(f"repair_4000_vertices_{k}_crossings_s", t[0], "s")
    ring = shapely.geometry.shape(random_ring(199))
    for method in ("linework", "structure"):
        with timer() as t:
            shapely.make_valid(ring, method=method)
        metric(f"make_valid_{method}_random_200_vertices_s", t[0], "s")


if __name__ == "__main__":
    main()
