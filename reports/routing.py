"""Routing: which department a report goes to, as a pure function over a rule table.

No ORM in here (house style rule 4): the service that applies a decision loads the active
rules into a :class:`RuleTable`, computes the report's region path (root → grid) and
category path (major → minor) from the database and calls :func:`route`. Everything here
is plain data, so it is tested without a database and benchmarked in ``bench/routing.py``.

Semantics (docs/routing-rules.md):

- A rule matches a report when its region is on the report's region path (the grid or any
  ancestor) and its category is on the report's category path, the rule is active and
  ``at`` lies in its validity window.
- The most specific matching rule wins, compared in this order: deeper region, then deeper
  category, then **higher** ``priority``. Because a path has exactly one node per depth,
  "same region depth and same category depth" means "same (region, category) key".
- Several top rules at the same key and priority with different outcomes (department,
  level, mode) are a configuration error: the decision picks none of them
  (``conflict=True``), the case goes to the street center, and :func:`find_conflicts`
  lists the group for the administrator. Identical duplicates are not a conflict; the
  lowest rule id is reported.
- Inactive or out-of-window rules never match; the search goes on to less specific ones.
- No matching rule: ``Decision.rule is None`` and the street center triages by hand.

Validity windows are half-open ``[start, end)`` in local wall-clock time of the table's
time zone. A ``date`` bound is a whole calendar day: ``valid_from=date(2025, 1, 1)`` starts
at 00:00 that day and ``valid_until=date(2025, 12, 31)`` still matches all of 31 December.
A ``datetime`` bound is exact (aware ones are converted to the table's zone, naive ones
are taken as local time); ``valid_until`` as a datetime is exclusive.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Final, Literal
from zoneinfo import ZoneInfo

from django.utils.translation import get_language
from django.utils.translation import gettext as _

HandlingLevel = Literal["street", "district"]
DispatchMode = Literal["auto", "propose"]

LEVEL_STREET: Final = "street"
LEVEL_DISTRICT: Final = "district"
LEVELS: Final[frozenset[str]] = frozenset({LEVEL_STREET, LEVEL_DISTRICT})
MODE_AUTO: Final = "auto"
MODE_PROPOSE: Final = "propose"
MODES: Final[frozenset[str]] = frozenset({MODE_AUTO, MODE_PROPOSE})

# The city's zone; the service passes django.utils.timezone.get_current_timezone().
DEFAULT_TZ: Final[tzinfo] = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the rule table, as the service loads it (ids, not model instances)."""

    id: int
    category_id: int
    region_id: int
    department_id: int
    level: HandlingLevel
    mode: DispatchMode
    priority: int = 0
    active: bool = True
    valid_from: date | datetime | None = None
    valid_until: date | datetime | None = None

    def __post_init__(self) -> None:
        # Programming errors, not data errors: the model's choices constrain these columns.
        if self.level not in LEVELS:
            raise ValueError(f"routing rule #{self.id}: unknown level {self.level!r}")
        if self.mode not in MODES:
            raise ValueError(f"routing rule #{self.id}: unknown mode {self.mode!r}")

    @property
    def outcome(self) -> tuple[int, str, str]:
        return (self.department_id, self.level, self.mode)


@dataclass(frozen=True, slots=True)
class Names:
    """Optional id → name look-ups used only to write the human-readable reason."""

    regions: Mapping[int, str] = field(default_factory=dict)
    categories: Mapping[int, str] = field(default_factory=dict)
    departments: Mapping[int, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of routing one report, with the rule that matched and why.

    ``rule is None`` means the street center triages by hand: either no rule matched or
    (``conflict=True``) the top rules disagree; then ``candidates`` holds those rules.
    """

    rule: Rule | None
    reason: str
    department_id: int | None = None
    level: HandlingLevel | None = None
    mode: DispatchMode | None = None
    conflict: bool = False
    candidates: tuple[Rule, ...] = ()


@dataclass(frozen=True, slots=True)
class Conflict:
    """Active rules at one (region, category, priority) that disagree on the outcome."""

    region_id: int
    category_id: int
    priority: int
    rules: tuple[Rule, ...]


# (priority, start, end, rule); start/end are naive local datetimes or None (unbounded).
_Entry = tuple[int, datetime | None, datetime | None, Rule]


def _local(value: datetime, tz: tzinfo) -> datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(tz).replace(tzinfo=None)


def _start(bound: date | datetime | None, tz: tzinfo) -> datetime | None:
    if bound is None:
        return None
    if isinstance(bound, datetime):  # before date: datetime is a subclass of date
        return _local(bound, tz)
    return datetime.combine(bound, time.min)


def _end(bound: date | datetime | None, tz: tzinfo) -> datetime | None:
    if bound is None:
        return None
    if isinstance(bound, datetime):
        return _local(bound, tz)
    # A date means "through the end of that day".
    return datetime.combine(bound + timedelta(days=1), time.min)


def _in_window(entry: _Entry, at: datetime) -> bool:
    start, end = entry[1], entry[2]
    return (start is None or start <= at) and (end is None or at < end)


class RuleTable:
    """The rule table indexed for look-up: region id → category id → entries.

    Built once per rule-set version (O(n log n) for n rules). Entries under one key are
    sorted by priority descending, then id, so the first in-window entries are the top.
    Inactive rules are kept in ``rules`` (for the admin) but never indexed.
    """

    __slots__ = ("_index", "rules", "tz")

    def __init__(self, rules: Iterable[Rule], *, tz: tzinfo = DEFAULT_TZ) -> None:
        self.tz = tz
        self.rules: tuple[Rule, ...] = tuple(rules)
        buckets: dict[int, dict[int, list[_Entry]]] = {}
        for rule in self.rules:
            if not rule.active:
                continue
            entry: _Entry = (
                rule.priority,
                _start(rule.valid_from, tz),
                _end(rule.valid_until, tz),
                rule,
            )
            buckets.setdefault(rule.region_id, {}).setdefault(rule.category_id, []).append(entry)
        self._index: dict[int, dict[int, tuple[_Entry, ...]]] = {
            region_id: {
                category_id: tuple(sorted(entries, key=lambda e: (-e[0], e[3].id)))
                for category_id, entries in by_category.items()
            }
            for region_id, by_category in buckets.items()
        }

    def __len__(self) -> int:
        return len(self.rules)

    def local(self, at: datetime) -> datetime:
        return _local(at, self.tz)


def _top_entries(entries: tuple[_Entry, ...], at: datetime) -> list[Rule]:
    """The in-window rules sharing the highest priority among the in-window ones."""
    top: int | None = None
    found: list[Rule] = []
    for entry in entries:
        if top is not None and entry[0] < top:
            break
        if _in_window(entry, at):
            top = entry[0]
            found.append(entry[3])
    return found


# ---------------------------------------------------------------------------- reason text


@dataclass(frozen=True, slots=True)
class _Texts:
    """The reason-text templates, translated once per language (gettext costs ~2 µs)."""

    region_levels: tuple[str, ...]
    category_levels: tuple[str, ...]
    here: str
    up: str
    street: str
    district: str
    auto: str
    propose: str
    matched: str
    conflict: str
    no_rule: str


_TEXTS: dict[str, _Texts] = {}


def _texts() -> _Texts:
    language = get_language() or ""
    texts = _TEXTS.get(language)
    if texts is None:
        texts = _TEXTS[language] = _Texts(
            region_levels=(_("市级"), _("区级"), _("街道级"), _("社区级"), _("网格级")),
            category_levels=(_("大类"), _("小类"), _("细类")),
            here=_("本级"),
            up=_("上溯%(up)d层"),
            street=_("街道处置"),
            district=_("区级处置"),
            auto=_("自动派遣"),
            propose=_("建议派遣，待中心确认"),
            matched=_(
                "规则#%(id)d：区划 %(region)s（%(region_level)s，%(relation)s） × "
                "类别 %(category)s（%(category_level)s） → "
                "%(department)s（%(level)s，%(mode)s），优先级 %(priority)d"
            ),
            conflict=_(
                "规则冲突：%(rules)s 在 区划 %(region)s（%(region_level)s，%(relation)s） × "
                "类别 %(category)s（%(category_level)s） 上优先级同为 %(priority)d "
                "但结果不同，未自动分拨，转街道中心人工分拨；请管理员修正规则表"
            ),
            no_rule=_("无匹配规则，转街道中心人工分拨"),
        )
    return texts


def _where(
    texts: _Texts,
    names: Names,
    region_path: Sequence[int],
    region_depth: int,
    category_path: Sequence[int],
    category_depth: int,
) -> dict[str, object]:
    region = region_path[region_depth]
    up = len(region_path) - 1 - region_depth
    levels, category_levels = texts.region_levels, texts.category_levels
    return {
        "region": names.regions.get(region, f"#{region}"),
        # Paths deeper than the five named levels only occur with synthetic data.
        "region_level": levels[region_depth] if region_depth < len(levels) else region_depth,
        "relation": texts.here if up == 0 else texts.up % {"up": up},
        "category": "›".join(
            names.categories.get(c, f"#{c}") for c in category_path[: category_depth + 1]
        ),
        "category_level": category_levels[category_depth]
        if category_depth < len(category_levels)
        else category_depth,
    }


_NO_NAMES: Final = Names()


# -------------------------------------------------------------------------------- routing


def route(
    *,
    region_path: Sequence[int],
    category_path: Sequence[int],
    at: datetime,
    table: RuleTable,
    names: Names | None = None,
) -> Decision:
    """Decide where a report goes.

    ``region_path`` lists region ids from the root (city) down to the report's grid,
    ``category_path`` category ids from the major category down to the report's leaf.
    Cost: at most len(region_path) × len(category_path) dict look-ups (≤ 5 × 3), never a
    scan of the table.
    """
    names = names or _NO_NAMES
    index = table._index
    local_at = _local(at, table.tz)
    for region_depth in range(len(region_path) - 1, -1, -1):
        by_category = index.get(region_path[region_depth])
        if by_category is None:
            continue
        for category_depth in range(len(category_path) - 1, -1, -1):
            entries = by_category.get(category_path[category_depth])
            if entries is None:
                continue
            top = _top_entries(entries, local_at)
            if not top:
                continue
            texts = _texts()
            params = _where(texts, names, region_path, region_depth, category_path, category_depth)
            if len({rule.outcome for rule in top}) > 1:
                params["rules"] = "、".join(f"#{rule.id}" for rule in top)
                params["priority"] = top[0].priority
                return Decision(
                    rule=None,
                    reason=texts.conflict % params,
                    conflict=True,
                    candidates=tuple(top),
                )
            rule = top[0]
            params["id"] = rule.id
            params["priority"] = rule.priority
            params["department"] = names.departments.get(
                rule.department_id, f"#{rule.department_id}"
            )
            params["level"] = texts.street if rule.level == LEVEL_STREET else texts.district
            params["mode"] = texts.auto if rule.mode == MODE_AUTO else texts.propose
            return Decision(
                rule=rule,
                reason=texts.matched % params,
                department_id=rule.department_id,
                level=rule.level,
                mode=rule.mode,
            )
    return Decision(rule=None, reason=_texts().no_rule)


# ---------------------------------------------------------------------- admin table checks


def _windows_overlap(a: _Entry, b: _Entry) -> bool:
    a_start, a_end, b_start, b_end = a[1], a[2], b[1], b[2]
    a_before_b_ends = a_start is None or b_end is None or a_start < b_end
    b_before_a_ends = b_start is None or a_end is None or b_start < a_end
    return a_before_b_ends and b_before_a_ends


def find_conflicts(table: RuleTable, at: datetime | None = None) -> list[Conflict]:
    """Groups of active rules at one (region, category, priority) with differing outcomes.

    With ``at``, only rules valid at that moment count (what :func:`route` would see then).
    Without it, two rules conflict when their validity windows overlap at any time, so a
    rule replaced by a successor with an adjacent window is not reported. O(n) over the
    table plus O(k²) within each group of k rules sharing a key and priority (k is tiny).
    """
    local_at = None if at is None else table.local(at)
    conflicts: list[Conflict] = []
    for region_id, by_category in table._index.items():
        for category_id, entries in by_category.items():
            if len(entries) < 2:
                continue
            groups: dict[int, list[_Entry]] = {}
            for entry in entries:
                if local_at is None or _in_window(entry, local_at):
                    groups.setdefault(entry[0], []).append(entry)
            for priority, group in groups.items():
                involved: set[int] = set()
                for i, a in enumerate(group):
                    for b in group[i + 1 :]:
                        if a[3].outcome != b[3].outcome and _windows_overlap(a, b):
                            involved.update((a[3].id, b[3].id))
                if involved:
                    rules = tuple(e[3] for e in group if e[3].id in involved)
                    conflicts.append(Conflict(region_id, category_id, priority, rules))
    conflicts.sort(key=lambda c: (c.region_id, c.category_id, -c.priority))
    return conflicts


def uncovered_pairs(
    table: RuleTable,
    regions: Iterable[tuple[int, Sequence[int]]],
    categories: Iterable[tuple[int, Sequence[int]]],
    at: datetime,
) -> list[tuple[int, int]]:
    """Every (leaf region, leaf category) pair that no rule valid at ``at`` covers.

    ``regions`` and ``categories`` are ``(id, path)`` with the path root → node, node
    included (e.g. all grids, or all streets, and all minor categories). A pair covered
    only by a conflict counts as covered here: :func:`find_conflicts` reports it.

    Instead of calling :func:`route` per pair (R × C), each region node gets the set of
    category ids ruled anywhere on its path, built once per node from its parent's set;
    regions with equal sets (most grids share their street's) share one pass over the
    categories. Cost: O(N + D · C · h + output) for N region nodes on the paths, D distinct
    coverage sets (≤ nodes holding rules + 1), C categories of depth ≤ h.
    """
    local_at = table.local(at)
    ruled: dict[int, frozenset[int]] = {}
    for region_id, by_category in table._index.items():
        covered = frozenset(
            category_id
            for category_id, entries in by_category.items()
            if any(_in_window(entry, local_at) for entry in entries)
        )
        if covered:
            ruled[region_id] = covered

    category_paths = [(category_id, tuple(path)) for category_id, path in categories]
    empty: frozenset[int] = frozenset()
    coverage_of: dict[int, frozenset[int]] = {}
    uncovered_for: dict[frozenset[int], list[int]] = {}
    result: list[tuple[int, int]] = []
    for region_id, path in regions:
        coverage = empty
        for node in path:
            known = coverage_of.get(node)
            if known is None:
                here = ruled.get(node)
                known = coverage | here if here else coverage
                coverage_of[node] = known
            coverage = known
        missing = uncovered_for.get(coverage)
        if missing is None:
            missing = [
                category_id
                for category_id, category_path in category_paths
                if coverage.isdisjoint(category_path)
            ]
            uncovered_for[coverage] = missing
        result.extend((region_id, category_id) for category_id in missing)
    return result
