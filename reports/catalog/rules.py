"""The rule table from the database, region and category paths, and the rule checks.

``load_rule_table`` (one query) feeds ``reports.routing.route``; ``check_rules`` backs the
admin's 规则检查 page and the ``check_rules`` command (``reports.dispatching.dry_run``
backs the 试分拨 page).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.models import Department, Level, Region
from reports import routing
from reports.fit import department_fit_errors
from reports.models import Category, RoutingRule

# --------------------------------------------------------------------------- rule checks

# One rule for dispatch, routing and these checks (reports.fit).
rule_department_errors = department_fit_errors


# ------------------------------------------------------------------- rule table and paths

_RULE_VALUES: Final = (
    "id", "category_id", "region_id", "department_id", "level", "mode", "priority",
    "valid_from", "valid_until",
)


def load_rule_table(at: datetime | None = None) -> routing.RuleTable:
    """The active rules as a ``RuleTable`` (one query).

    With ``at``, rules that expired before that day are left out (they can never match
    again); rules not yet in force are kept, the table checks windows itself.
    """
    rules = RoutingRule.objects.filter(is_active=True)
    if at is not None:
        today = timezone.localdate(at) if timezone.is_aware(at) else at.date()
        rules = rules.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
    return routing.RuleTable(
        (
            routing.Rule(
                id=rid, category_id=category_id, region_id=region_id,
                department_id=department_id, level=level, mode=mode, priority=priority,
                active=True, valid_from=valid_from, valid_until=valid_until,
            )
            for (rid, category_id, region_id, department_id, level, mode, priority,
                 valid_from, valid_until) in rules.values_list(*_RULE_VALUES)
        ),
        tz=timezone.get_current_timezone(),
    )


_table_cache: tuple[tuple[Any, ...], routing.RuleTable] | None = None


def cached_rule_table() -> routing.RuleTable:
    """This process's rule table, reloaded only when the rules changed (one small query).

    Loading 5,000 rules costs ~30 ms; the signature (count, last id, last change) costs
    one aggregate. Every write path saves ``updated_at`` (admin, import, bulk_create),
    and a delete changes the count, so a stale table is never used.
    """
    global _table_cache
    signature = tuple(
        RoutingRule.objects.aggregate(
            n=Count("id"), last_id=Max("id"), changed=Max("updated_at")
        ).values()
    )
    cached = _table_cache
    if cached is not None and cached[0] == signature:
        return cached[1]
    table = load_rule_table()
    _table_cache = (signature, table)
    return table


def reset_rule_table_cache() -> None:
    global _table_cache
    _table_cache = None


# -------------------------------------------------------------------------- rule writes


def rule_save(*, rule: RoutingRule, update_fields: list[str] | None = None) -> RoutingRule:
    """Save a new or edited routing rule (admin, table import).

    Refuses a validity window that ends before it starts; once committed, this
    process's cached rule table is dropped (other processes see the new ``updated_at``
    in the table's signature).
    """
    if rule.valid_from and rule.valid_until and rule.valid_until < rule.valid_from:
        raise ValidationError(_("失效日期不能早于生效日期"))
    with transaction.atomic():
        if update_fields is not None and "updated_at" not in update_fields:
            update_fields = [*update_fields, "updated_at"]
        rule.save(update_fields=update_fields)
        transaction.on_commit(reset_rule_table_cache)
    return rule


def rule_delete(*, rule: RoutingRule) -> None:
    with transaction.atomic():
        rule.delete()
        transaction.on_commit(reset_rule_table_cache)


def rule_conflict_warnings() -> list[str]:
    """A Chinese warning if the active rules now conflict (shown after a save or import)."""
    conflicts = routing.find_conflicts(load_rule_table())
    if not conflicts:
        return []
    return [
        _(
            "规则表中有 %(n)d 组冲突（同一区划、类别、优先级但结果不同），"
            "请在“规则检查”中查看并修正"
        )
        % {"n": len(conflicts)}
    ]


@dataclass(frozen=True)
class RegionTree:
    """Regions down to one level, as parent links and names (from one query)."""

    parents: dict[int, int | None]
    levels: dict[int, int]
    names: dict[int, str]
    codes: dict[int, str]

    def path(self, region_id: int) -> tuple[int, ...]:
        path: list[int] = []
        node: int | None = region_id
        while node is not None:
            path.append(node)
            node = self.parents.get(node)
        return tuple(reversed(path))

    def label(self, region_id: int) -> str:
        # The full path: several cities may share one installation.
        return "›".join(self.names[node] for node in self.path(region_id))


def region_tree(level: int = Level.STREET) -> RegionTree:
    """Every region at ``level`` or above, in one query (≈ 300 rows for a city's streets)."""
    parents: dict[int, int | None] = {}
    levels: dict[int, int] = {}
    names: dict[int, str] = {}
    codes: dict[int, str] = {}
    for rid, parent_id, lvl, name, code in Region.objects.filter(level__lte=level).values_list(
        "id", "parent_id", "level", "name", "code"
    ):
        parents[rid], levels[rid], names[rid], codes[rid] = parent_id, lvl, name, code
    return RegionTree(parents, levels, names, codes)


def region_paths(
    regions: Iterable[Region] | None = None, *, level: int = Level.STREET
) -> dict[int, tuple[int, ...]]:
    """Root → region id paths.

    Without ``regions``: every region at ``level`` (streets by default), from one query of
    all regions at that level or above. With ``regions``: their paths, from one query of
    the regions above the deepest of them (none if they are all cities).
    """
    if regions is None:
        tree = region_tree(level)
        return {rid: tree.path(rid) for rid, lvl in tree.levels.items() if lvl == level}
    wanted = list(regions)
    if not wanted:
        return {}
    deepest = max(r.level for r in wanted)
    parents: dict[int, int | None] = {}
    if deepest > 0:
        parents = dict(
            Region.objects.filter(
                level__lt=deepest, tree_id__in={r.tree_id for r in wanted}
            ).values_list("id", "parent_id")
        )
    result: dict[int, tuple[int, ...]] = {}
    for region in wanted:
        path = [region.pk]
        node = region.parent_id
        while node is not None:
            path.append(node)
            node = parents.get(node)
        result[region.pk] = tuple(reversed(path))
    return result


def region_path_of(region: Region) -> tuple[int, ...]:
    """One region's root → region ids (one indexed range query)."""
    return tuple(region.get_ancestors(include_self=True).values_list("id", flat=True))


def category_path_of(category: Category) -> tuple[int, ...]:
    """Major → minor ids; no query."""
    if category.parent_id is None:
        return (category.pk,)
    return (category.parent_id, category.pk)


def category_paths(
    *, leaves_only: bool = True, active_only: bool = True
) -> dict[int, tuple[int, ...]]:
    """Major → category id paths (one query); by default for the active leaves — minor
    categories, and majors that have none — which is what reports are filed under."""
    rows = list(Category.objects.values_list("id", "parent_id", "is_active"))
    active = {cid for cid, _parent, is_active in rows if is_active}
    with_children = {parent for _cid, parent, _a in rows if parent is not None}
    result: dict[int, tuple[int, ...]] = {}
    for cid, parent, is_active in rows:
        if active_only and (not is_active or (parent is not None and parent not in active)):
            continue
        if leaves_only and cid in with_children:
            continue
        result[cid] = (cid,) if parent is None else (parent, cid)
    return result


def names_for(
    *,
    region_ids: Iterable[int] = (),
    category_ids: Iterable[int] = (),
    department_ids: Iterable[int] = (),
) -> routing.Names:
    """id → name look-ups for the reason texts (up to three queries)."""
    def look_up(model: Any, ids: Iterable[int]) -> dict[int, str]:
        wanted = set(ids)
        if not wanted:
            return {}
        return dict(model.objects.filter(pk__in=wanted).values_list("id", "name"))

    return routing.Names(
        regions=look_up(Region, region_ids),
        categories=look_up(Category, category_ids),
        departments=look_up(Department, department_ids),
    )


# ------------------------------------------------------------------------- check_rules


@dataclass(frozen=True)
class ConflictLine:
    region: str
    category: str
    priority: int
    rules: tuple[tuple[int, str], ...]  # (rule id, "department（level，mode）")


@dataclass(frozen=True)
class MisfitRule:
    """An active rule whose department cannot take its cases (``reports.fit``)."""

    rule_id: int
    problems: tuple[str, ...]


@dataclass(frozen=True)
class UncoveredRegion:
    region_id: int
    region: str
    categories: tuple[str, ...]


@dataclass(frozen=True)
class RuleCheck:
    at: datetime
    rule_count: int
    region_count: int
    category_count: int
    conflicts: tuple[ConflictLine, ...]
    uncovered: tuple[UncoveredRegion, ...]
    misfits: tuple[MisfitRule, ...] = ()

    @property
    def uncovered_count(self) -> int:
        return sum(len(u.categories) for u in self.uncovered)


def _category_labels() -> dict[int, str]:
    rows = list(Category.objects.values_list("id", "parent_id", "name"))
    names = {cid: name for cid, _parent, name in rows}
    return {
        cid: name if parent is None else f"{names[parent]}›{name}" for cid, parent, name in rows
    }


def _outcome_text(rule: routing.Rule, departments: dict[int, str]) -> str:
    level = _("街道处置") if rule.level == routing.LEVEL_STREET else _("区级处置")
    mode = _("自动派遣") if rule.mode == routing.MODE_AUTO else _("建议派遣")
    name = departments.get(rule.department_id, f"#{rule.department_id}")
    return f"{name}（{level}，{mode}）"


def check_rules(*, at: datetime | None = None, level: int = Level.STREET) -> RuleCheck:
    """Conflicts among the active rules, and the (region, minor category) pairs no rule
    covers at ``at``.

    Coverage is checked per street by default: a grid inherits its street's rules, so a
    street × category pair without a rule on the street's path (city, district, street)
    means every grid of that street lacks one. Rules written below street level (for a
    community or a grid) cover only part of a street and are not counted — pass
    ``level=Level.GRID`` to check grid by grid instead.
    """
    at = at or timezone.now()
    table = load_rule_table()
    tree = region_tree(level)
    paths = {rid: tree.path(rid) for rid, lvl in tree.levels.items() if lvl == level}
    leaves = category_paths()
    labels = _category_labels()
    departments = dict(Department.objects.values_list("id", "name"))

    conflicts = tuple(
        ConflictLine(
            region=tree.label(c.region_id) if c.region_id in tree.names
            else _region_label(c.region_id),
            category=labels.get(c.category_id, f"#{c.category_id}"),
            priority=c.priority,
            rules=tuple((r.id, _outcome_text(r, departments)) for r in c.rules),
        )
        for c in routing.find_conflicts(table)
    )
    missing: dict[int, list[str]] = {}
    for region_id, category_id in routing.uncovered_pairs(
        table, paths.items(), leaves.items(), at
    ):
        missing.setdefault(region_id, []).append(labels[category_id])
    uncovered = tuple(
        UncoveredRegion(rid, tree.label(rid), tuple(sorted(cats)))
        for rid, cats in sorted(missing.items(), key=lambda item: tree.codes[item[0]])
    )
    return RuleCheck(
        at=at, rule_count=len(table), region_count=len(paths), category_count=len(leaves),
        conflicts=conflicts, uncovered=uncovered, misfits=_misfits(),
    )


def _misfits() -> tuple[MisfitRule, ...]:
    """Active rules pointing at a department that dispatch would refuse (one query):
    the same ``department_fit_errors`` that dispatch and routing apply."""
    result = []
    for rule in (
        RoutingRule.objects.filter(is_active=True)
        .select_related("region", "department__region")
        .order_by("pk")
    ):
        problems = department_fit_errors(
            level=rule.level,
            department_name=rule.department.name,
            department_region=rule.department.region,
            region=rule.region,
        )
        if not rule.department.is_active:
            problems.append(_("部门“%(dept)s”已停用") % {"dept": rule.department.name})
        if problems:
            result.append(MisfitRule(rule.pk, tuple(problems)))
    return tuple(result)


def _region_label(region_id: int) -> str:
    region = Region.objects.filter(pk=region_id).first()
    if region is None:
        return f"#{region_id}"
    return "›".join(r.name for r in region.get_ancestors(include_self=True))
