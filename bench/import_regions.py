"""Import a whole city's hierarchy from GeoJSON.

A synthetic Tianjin-sized file: 1 city, 16 districts, 300 streets, 5,600 communities
and 6,000 grids (one per community, two in every 14th) with square boundaries,
features shuffled so children often come before their parents. Prints the time of
``grids.importer.import_regions`` on an empty database, the time of importing the
same file again (a no-op) and of exporting it, and checks that the nested sets equal
what ``Region.objects.rebuild()`` computes.
"""

from __future__ import annotations

import random
from typing import Any

from _common import metric, setup_django, timer
from _tree import square

DISTRICTS, STREETS, COMMUNITIES = 16, 300, 5_600
CELL = 0.002


def feature(code: str, name: str, level: str, parent: str | None,
            geometry: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"code": code, "name": name, "level": level, "parent_code": parent},
        "geometry": geometry,
    }


def synthetic_city() -> dict[str, Any]:
    features = [feature("120000", "基准市", "city", None)]
    districts = [f"1201{d:02d}" for d in range(DISTRICTS)]
    features += [feature(c, f"第{i + 1}区", "district", "120000") for i, c in enumerate(districts)]
    streets = [f"{districts[s % DISTRICTS]}{s:03d}" for s in range(STREETS)]
    features += [feature(c, f"街道{i}", "street", c[:6]) for i, c in enumerate(streets)]
    cols, grid_no = 100, 0
    for i in range(COMMUNITIES):
        street = streets[i % STREETS]
        community = f"{street}{i:03d}" if i < 1000 else f"{street}{i:04d}"
        features.append(feature(community, f"社区{i}", "community", street))
        for g in range(2 if i % 14 == 0 else 1):
            lng = 116.8 + (grid_no % cols) * CELL
            lat = 38.6 + (grid_no // cols) * CELL
            grid_no += 1
            features.append(
                feature(f"{community}{g + 1:03d}", f"第{g + 1}网格", "grid", community,
                        square(lng, lat, CELL, steps=8))
            )
    random.Random(7).shuffle(features)
    return {"type": "FeatureCollection", "features": features}


def main() -> None:
    setup_django()
    from grids.importer import import_regions
    from grids.models import Region

    data = synthetic_city()
    n = len(data["features"])
    with timer() as t:
        result = import_regions(data)
    assert result.created == n, result
    metric("import_s", t[0], "s")
    metric("nodes_per_s", n / t[0], "nodes/s")
    metric("nodes", Region.objects.count(), "count")

    with timer() as t:
        again = import_regions(data)
    assert again.created == again.updated == 0 and again.unchanged == n, again
    metric("reimport_noop_s", t[0], "s")

    from grids.importer import export_regions

    with timer() as t:
        exported = export_regions()
    assert len(exported["features"]) == n
    metric("export_s", t[0], "s")

    cols = ("code", "tree_id", "lft", "rght", "depth")
    before = set(Region.objects.values_list(*cols))
    Region.objects.rebuild()
    assert before == set(Region.objects.values_list(*cols)), "nested sets differ from rebuild"


if __name__ == "__main__":
    main()
