"""Routing as a pure function: no database, the rule table is plain data."""

from collections.abc import Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from reports.routing import (
    Names,
    Rule,
    RuleTable,
    find_conflicts,
    route,
    uncovered_pairs,
)

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=SH)

# Regions: 天津市 ─ 南开区 ─ 向阳路街道 ─ 向阳社区 ─ 向阳一网格
#                      └─ 学府街道 ─ 学府社区 ─ 学府一网格
#                └ 河西区 ─ 友谊路街道 ─ 友谊社区 ─ 友谊一网格
CITY, NANKAI, HEXI = 1, 10, 11
XIANGYANG, XUEFU, YOUYI = 100, 101, 110
GRID_XIANGYANG = (CITY, NANKAI, XIANGYANG, 1000, 10000)
GRID_XUEFU = (CITY, NANKAI, XUEFU, 1010, 10100)
GRID_YOUYI = (CITY, HEXI, YOUYI, 1100, 11000)

# Categories: major → minor.
SHIRONG, GARBAGE, STALLS = 1, 11, 12
SHESHI, LAMP, MANHOLE = 2, 21, 22
YUANLIN, VEGETABLES = 3, 31
FANGWU, ROOF_TREES = 4, 41
LEAF_CATEGORIES = [
    (GARBAGE, (SHIRONG, GARBAGE)),
    (STALLS, (SHIRONG, STALLS)),
    (LAMP, (SHESHI, LAMP)),
    (MANHOLE, (SHESHI, MANHOLE)),
    (VEGETABLES, (YUANLIN, VEGETABLES)),
    (ROOF_TREES, (FANGWU, ROOF_TREES)),
]

NAMES = Names(
    regions={
        CITY: "天津市",
        NANKAI: "南开区",
        HEXI: "河西区",
        XIANGYANG: "向阳路街道",
        XUEFU: "学府街道",
        YOUYI: "友谊路街道",
        1000: "向阳社区",
        10000: "向阳一网格",
    },
    categories={
        SHIRONG: "市容环境",
        GARBAGE: "暴露垃圾",
        STALLS: "占道经营",
        SHESHI: "设施管理",
        LAMP: "路灯",
        MANHOLE: "井盖",
        YUANLIN: "园林绿化",
        VEGETABLES: "毁绿种菜",
        FANGWU: "房屋安全",
        ROOF_TREES: "楼顶杂树",
    },
    departments={
        500: "市城管委",
        501: "南开区城管委",
        502: "向阳路街道综合执法队",
        503: "南开区环卫局",
        504: "市园林局",
        505: "河西区园林所",
        506: "市政工程公司",
    },
)


def rule(id: int, region: int, category: int, department: int, **kw: object) -> Rule:
    kw.setdefault("level", "district")
    kw.setdefault("mode", "auto")
    return Rule(id=id, region_id=region, category_id=category, department_id=department, **kw)  # type: ignore[arg-type]


RULES = [
    # Overlapping regions for 市容环境: city-wide, district, street.
    rule(1, CITY, SHIRONG, 500),
    rule(2, NANKAI, SHIRONG, 501),
    rule(3, XIANGYANG, SHIRONG, 502, level="street"),
    # Category subtree: a minor-category rule beside the major one at the same district.
    rule(4, NANKAI, GARBAGE, 503, mode="propose"),
    # Priorities at one key: the higher wins.
    rule(5, CITY, SHESHI, 500, priority=10),
    rule(6, CITY, SHESHI, 506, priority=20),
    # Never match: inactive, expired (date bound), not yet valid (date bound).
    rule(7, 10000, LAMP, 501, active=False),
    rule(8, XUEFU, SHESHI, 501, valid_until=date(2024, 12, 31)),
    rule(9, 1000, SHESHI, 502, level="street", valid_from=date(2026, 1, 1)),
    # A tie with different outcomes, and a lower-priority rule that must not be picked.
    rule(10, HEXI, YUANLIN, 504, priority=5),
    rule(11, HEXI, YUANLIN, 505, priority=5),
    rule(12, HEXI, YUANLIN, 500, priority=1),
    # Identical duplicates are not a conflict.
    rule(14, CITY, VEGETABLES, 504),
    rule(13, CITY, VEGETABLES, 504),
    # An exact window given as aware datetimes, [08:00, 18:00) Beijing time.
    rule(
        15,
        XUEFU,
        MANHOLE,
        503,
        valid_from=datetime(2025, 6, 1, 8, 0, tzinfo=SH),
        valid_until=datetime(2025, 6, 1, 10, 0, tzinfo=UTC),
    ),
]
TABLE = RuleTable(RULES)


@pytest.mark.parametrize(
    ("region_path", "category_path", "at", "expected_rule"),
    [
        # Street rule beats district and city rules for the same category.
        (GRID_XIANGYANG, (SHIRONG, STALLS), NOW, 3),
        # Deeper region beats deeper category: street × major over district × minor.
        (GRID_XIANGYANG, (SHIRONG, GARBAGE), NOW, 3),
        # Same region depth: minor category beats major category.
        (GRID_XUEFU, (SHIRONG, GARBAGE), NOW, 4),
        # District rule beats the city-wide rule.
        (GRID_XUEFU, (SHIRONG, STALLS), NOW, 2),
        # Only the city-wide rule covers 河西区.
        (GRID_YOUYI, (SHIRONG, GARBAGE), NOW, 1),
        # Higher priority wins at the same key.
        (GRID_YOUYI, (SHESHI, LAMP), NOW, 6),
        # The inactive grid rule is skipped.
        (GRID_XIANGYANG, (SHESHI, LAMP), NOW, 6),
        # Expired (valid_until in the past) and not-yet-valid rules are skipped.
        (GRID_XUEFU, (SHESHI, LAMP), NOW, 6),
        (GRID_XIANGYANG, (SHESHI, MANHOLE), NOW, 6),
        # A date valid_until covers its whole last day; the next day it is over.
        (GRID_XUEFU, (SHESHI, LAMP), datetime(2024, 12, 31, 23, 59, tzinfo=SH), 8),
        (GRID_XUEFU, (SHESHI, LAMP), datetime(2025, 1, 1, 0, 0, tzinfo=SH), 6),
        # The not-yet-valid rule starts at 00:00 of its first day, in local time.
        (GRID_XIANGYANG, (SHESHI, LAMP), datetime(2025, 12, 31, 16, 0, tzinfo=UTC), 9),
        # An exact datetime window: start inclusive, end exclusive, zones converted.
        (GRID_XUEFU, (SHESHI, MANHOLE), datetime(2025, 6, 1, 0, 0, tzinfo=UTC), 15),
        (GRID_XUEFU, (SHESHI, MANHOLE), datetime(2025, 6, 1, 17, 59, tzinfo=SH), 15),
        (GRID_XUEFU, (SHESHI, MANHOLE), datetime(2025, 6, 1, 18, 0, tzinfo=SH), 6),
        # Identical duplicates: the lowest id is reported.
        (GRID_XUEFU, (YUANLIN, VEGETABLES), NOW, 13),
    ],
)
def test_it_picks_the_most_specific_matching_rule(
    region_path: Sequence[int], category_path: Sequence[int], at: datetime, expected_rule: int
) -> None:
    decision = route(
        region_path=region_path, category_path=category_path, at=at, table=TABLE, names=NAMES
    )

    assert decision.rule is not None
    assert decision.rule.id == expected_rule
    assert decision.reason.startswith(f"规则#{expected_rule}：")
    assert decision.department_id == decision.rule.department_id
    assert (decision.level, decision.mode) == (decision.rule.level, decision.rule.mode)
    assert not decision.conflict


def test_it_explains_the_match_with_region_category_department_and_priority() -> None:
    decision = route(
        region_path=GRID_XUEFU, category_path=(SHIRONG, GARBAGE), at=NOW, table=TABLE, names=NAMES
    )

    assert decision.reason == (
        "规则#4：区划 南开区（区级，上溯3层） × 类别 市容环境›暴露垃圾（小类）"
        " → 南开区环卫局（区级处置，建议派遣，待中心确认），优先级 0"
    )
    assert decision.mode == "propose"


def test_it_names_a_street_rule_and_falls_back_to_ids_without_names() -> None:
    decision = route(
        region_path=GRID_XIANGYANG, category_path=(SHIRONG, GARBAGE), at=NOW, table=TABLE
    )

    assert decision.reason == (
        "规则#3：区划 #100（街道级，上溯2层） × 类别 #1（大类）"
        " → #502（街道处置，自动派遣），优先级 0"
    )
    assert decision.level == "street"


@pytest.mark.parametrize(
    ("region_path", "category_path"),
    [
        (GRID_YOUYI, (FANGWU, ROOF_TREES)),  # no rule for this category anywhere
        ((), (SHIRONG, GARBAGE)),  # no region at all
        (GRID_YOUYI, ()),  # no category at all
    ],
)
def test_it_sends_an_unmatched_report_to_manual_triage(
    region_path: Sequence[int], category_path: Sequence[int]
) -> None:
    decision = route(
        region_path=region_path, category_path=category_path, at=NOW, table=TABLE, names=NAMES
    )

    assert decision.rule is None
    assert decision.department_id is None
    assert not decision.conflict
    assert decision.reason == "无匹配规则，转街道中心人工分拨"


def test_it_refuses_to_pick_between_tied_rules_with_different_outcomes() -> None:
    decision = route(
        region_path=GRID_YOUYI,
        category_path=(YUANLIN, VEGETABLES),
        at=NOW,
        table=TABLE,
        names=NAMES,
    )

    assert decision.rule is None
    assert decision.department_id is None
    assert decision.conflict
    assert [r.id for r in decision.candidates] == [10, 11]
    assert decision.reason.startswith("规则冲突：#10、#11 在 区划 河西区（区级，上溯3层）")
    assert "优先级同为 5" in decision.reason


def test_it_routes_again_once_one_of_the_tied_rules_has_expired() -> None:
    table = RuleTable(
        [
            rule(1, HEXI, YUANLIN, 504, priority=5, valid_until=date(2025, 5, 31)),
            rule(2, HEXI, YUANLIN, 505, priority=5),
        ]
    )

    decision = route(region_path=GRID_YOUYI, category_path=(YUANLIN,), at=NOW, table=table)

    assert decision.rule is not None
    assert decision.rule.id == 2


def test_it_rejects_an_unknown_level_or_mode() -> None:
    with pytest.raises(ValueError, match="level"):
        rule(1, CITY, SHIRONG, 500, level="community")
    with pytest.raises(ValueError, match="mode"):
        rule(1, CITY, SHIRONG, 500, mode="maybe")


def test_it_lists_the_tie_as_a_conflict_and_not_the_duplicates() -> None:
    conflicts = find_conflicts(TABLE)

    assert [(c.region_id, c.category_id, c.priority) for c in conflicts] == [(HEXI, YUANLIN, 5)]
    assert [r.id for r in conflicts[0].rules] == [10, 11]


@pytest.mark.parametrize(
    ("until_first", "from_second", "at", "expected"),
    [
        # Windows overlap on 30 June (date bounds are whole days).
        (date(2025, 6, 30), date(2025, 6, 30), None, [1, 2]),
        # Handover: one ends on 30 June, the next starts on 1 July.
        (date(2025, 6, 30), date(2025, 7, 1), None, []),
        # Exact datetimes that meet end-to-start do not overlap.
        (datetime(2025, 7, 1, tzinfo=SH), datetime(2025, 7, 1, tzinfo=SH), None, []),
        # At a given moment only the rules valid then count.
        (date(2025, 6, 30), date(2025, 6, 30), datetime(2025, 6, 30, 9, tzinfo=SH), [1, 2]),
        (date(2025, 6, 30), date(2025, 6, 30), datetime(2025, 7, 2, 9, tzinfo=SH), []),
    ],
)
def test_it_reports_a_conflict_only_where_windows_overlap(
    until_first: date, from_second: date, at: datetime | None, expected: list[int]
) -> None:
    table = RuleTable(
        [
            rule(1, NANKAI, LAMP, 501, valid_until=until_first),
            rule(2, NANKAI, LAMP, 506, valid_from=from_second),
            rule(3, NANKAI, LAMP, 500, active=False),
        ]
    )

    conflicts = find_conflicts(table, at)

    assert [r.id for c in conflicts for r in c.rules] == expected


def test_it_does_not_report_different_priorities_as_a_conflict() -> None:
    table = RuleTable([rule(1, NANKAI, LAMP, 501, priority=1), rule(2, NANKAI, LAMP, 506)])

    assert find_conflicts(table) == []


LEAF_GRIDS = [(path[-1], path) for path in (GRID_XIANGYANG, GRID_XUEFU, GRID_YOUYI)]


def test_it_lists_every_uncovered_grid_and_category_pair() -> None:
    uncovered = uncovered_pairs(TABLE, LEAF_GRIDS, LEAF_CATEGORIES, NOW)

    assert uncovered == [(10000, ROOF_TREES), (10100, ROOF_TREES), (11000, ROOF_TREES)]


def test_it_counts_only_rules_valid_at_the_given_moment_as_coverage() -> None:
    table = RuleTable(
        [
            rule(1, NANKAI, SHIRONG, 501),
            rule(2, XUEFU, LAMP, 501, valid_until=date(2024, 12, 31)),
            rule(3, GRID_XIANGYANG[-1], LAMP, 501, active=False),
        ]
    )
    grids = LEAF_GRIDS[:2]
    categories = LEAF_CATEGORIES[:3]

    assert uncovered_pairs(table, grids, categories, NOW) == [(10000, LAMP), (10100, LAMP)]
    assert uncovered_pairs(table, grids, categories, datetime(2024, 6, 1, tzinfo=SH)) == [
        (10000, LAMP)
    ]


def test_it_agrees_with_route_on_which_pairs_have_no_rule() -> None:
    at = datetime(2024, 12, 31, 12, tzinfo=SH)

    uncovered = set(uncovered_pairs(TABLE, LEAF_GRIDS, LEAF_CATEGORIES, at))

    decisions = {
        (grid, category): route(
            region_path=region_path, category_path=category_path, at=at, table=TABLE
        )
        for grid, region_path in LEAF_GRIDS
        for category, category_path in LEAF_CATEGORIES
    }
    unmatched = {pair for pair, d in decisions.items() if d.rule is None and not d.conflict}
    assert uncovered == unmatched
