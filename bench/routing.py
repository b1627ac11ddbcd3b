"""Benchmark: routing decisions per second over a city-sized synthetic rule table.

Run from the repository root: ``.venv/bin/python bench/routing.py``. Routing is a pure
function (reports/routing.py), so this benchmark needs no database at all: it only loads
Django settings so that the reason text goes through gettext as it does in production.

It generates, with a fixed seed, a 5-level region tree of 50,000 nodes (1 city, 16
districts, 300 streets, 5,600 communities, 44,083 grids) as id/parent arrays, a 9 × 7
category tree and 5,000 rules spread over all region levels (some inactive, some with
validity windows), then times 200,000 decisions for random (grid, minor category) pairs
and the two admin checks over every (grid, minor category) pair. Target: ≥ 50,000
decisions/s on one core.
"""

from __future__ import annotations

import os
import random
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jinzhitong.settings")

import django

django.setup()

from django.utils import translation  # noqa: E402

from reports.routing import Names, Rule, RuleTable, find_conflicts, route, uncovered_pairs  # noqa: E402

SEED = 20250601
LEVEL_SIZES = [1, 16, 300, 5_600, 44_083]  # city, district, street, community, grid
MAJORS, MINORS_PER_MAJOR = 9, 7
RULES_PER_LEVEL = [30, 480, 2_400, 1_600, 490]  # 5,000 in all
DECISIONS = int(os.environ.get("BENCH_DECISIONS", "200000"))
AT = datetime(2025, 6, 1, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def build_tree(rng: random.Random) -> tuple[list[int], list[list[int]]]:
    """parent[id] (−1 for the root) and the ids of each level, children spread at random."""
    parent: list[int] = [-1]
    levels: list[list[int]] = [[0]]
    for size in LEVEL_SIZES[1:]:
        above = levels[-1]
        ids = list(range(len(parent), len(parent) + size))
        # Every node above gets at least one child, the rest are spread at random.
        parents = above + [rng.choice(above) for _ in range(size - len(above))]
        parent.extend(parents)
        levels.append(ids)
    return parent, levels


def path_of(node: int, parent: list[int]) -> tuple[int, ...]:
    path = []
    while node != -1:
        path.append(node)
        node = parent[node]
    return tuple(reversed(path))


def build_rules(
    rng: random.Random, levels: list[list[int]], categories: list[tuple[int, ...]]
) -> list[Rule]:
    majors = sorted({path[0] for path in categories})
    rules: list[Rule] = []
    for depth, count in enumerate(RULES_PER_LEVEL):
        for _ in range(count):
            region = rng.choice(levels[depth])
            category = rng.choice(majors) if rng.random() < 0.4 else rng.choice(categories)[-1]
            window_from: date | None = None
            window_until: date | None = None
            roll = rng.random()
            if roll < 0.05:  # expired
                window_until = AT.date() - timedelta(days=rng.randint(1, 400))
            elif roll < 0.10:  # not yet valid
                window_from = AT.date() + timedelta(days=rng.randint(1, 400))
            elif roll < 0.20:  # a current window
                window_from = AT.date() - timedelta(days=rng.randint(0, 90))
                window_until = AT.date() + timedelta(days=rng.randint(0, 90))
            rules.append(
                Rule(
                    id=len(rules) + 1,
                    region_id=region,
                    category_id=category,
                    department_id=rng.randint(1, 800),
                    level="street" if depth >= 2 else "district",
                    mode="auto" if rng.random() < 0.6 else "propose",
                    priority=rng.randint(0, 1_000),
                    active=rng.random() >= 0.03,
                    valid_from=window_from,
                    valid_until=window_until,
                )
            )
    return rules


def main() -> None:
    translation.activate("zh-hans")
    rng = random.Random(SEED)
    parent, levels = build_tree(rng)
    grid_paths = [path_of(grid, parent) for grid in levels[-1]]
    category_paths = [
        (major, 100 + major * MINORS_PER_MAJOR + minor)
        for major in range(1, MAJORS + 1)
        for minor in range(MINORS_PER_MAJOR)
    ]
    rules = build_rules(rng, levels, category_paths)
    names = Names(
        regions={node: f"区划{node}" for node in range(len(parent))},
        categories={c: f"类别{c}" for path in category_paths for c in path},
        departments={d: f"部门{d}" for d in range(1, 801)},
    )

    started = time.perf_counter()
    table = RuleTable(rules)
    table_build_s = time.perf_counter() - started

    samples = [(rng.choice(grid_paths), rng.choice(category_paths)) for _ in range(DECISIONS)]
    matched = conflicted = 0
    started = time.perf_counter()
    for region_path, category_path in samples:
        decision = route(
            region_path=region_path,
            category_path=category_path,
            at=AT,
            table=table,
            names=names,
        )
        if decision.rule is not None:
            matched += 1
        elif decision.conflict:
            conflicted += 1
    route_s = time.perf_counter() - started

    started = time.perf_counter()
    conflicts = find_conflicts(table)
    conflicts_s = time.perf_counter() - started

    leaves = [(path[-1], path) for path in grid_paths]
    started = time.perf_counter()
    uncovered = uncovered_pairs(table, leaves, [(p[-1], p) for p in category_paths], AT)
    uncovered_s = time.perf_counter() - started

    print(f"tree_nodes: {len(parent)} count")
    print(f"categories: {len(category_paths)} count")
    print(f"rules: {len(rules)} count")
    print(f"table_build_s: {table_build_s:.3f} s")
    print(f"decisions: {DECISIONS} count")
    print(f"decisions_per_s: {DECISIONS / route_s:.0f} decisions/s")
    print(f"decision_us: {route_s / DECISIONS * 1e6:.2f} us")
    print(f"matched_pct: {100 * matched / DECISIONS:.1f} %")
    print(f"conflicted_pct: {100 * conflicted / DECISIONS:.2f} %")
    print(f"find_conflicts_s: {conflicts_s:.3f} s")
    print(f"conflicts: {len(conflicts)} count")
    print(f"uncovered_pairs_s: {uncovered_s:.3f} s")
    print(f"uncovered_pairs: {len(uncovered)} count")
    print(f"checked_pairs: {len(leaves) * len(category_paths)} count")


if __name__ == "__main__":
    main()
