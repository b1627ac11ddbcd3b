"""Which rule routed this case: deciding a route, applying it, and the admin's dry run.

One module above the workflow and below tasks and pages: ``report_route`` (the routing
task's service) applies the rule table to a case through workflow transitions as the
system (actor None); ``decide_route`` and ``dry_run`` answer "where would it go, and why"
without side effects.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.models import Department, Region
from reports import routing, workflow
from reports.catalog import (
    cached_rule_table,
    category_path_of,
    load_rule_table,
    names_for,
    region_path_of,
)
from reports.errors import WorkflowError
from reports.events import event_write
from reports.models import (
    Category,
    EventKind,
    Report,
    RoutingMode,
    RoutingRule,
    State,
)
from reports.notifications import NoticeKind, center, notify


def decide_route(report: Report, at: datetime | None = None) -> routing.Decision:
    """Which department the rule table sends this case to (no side effects)."""
    at = at or timezone.now()
    table = cached_rule_table()
    region_path = list(region_path_of(report.grid))
    category_path = list(category_path_of(report.category))
    names = routing.Names(
        regions=dict(Region.objects.filter(pk__in=region_path).values_list("id", "name")),
        categories=dict(Category.objects.filter(pk__in=category_path).values_list("id", "name")),
        departments=_DepartmentNames(),
    )
    return routing.route(
        region_path=region_path, category_path=category_path, at=at, table=table, names=names
    )


class _DepartmentNames(Mapping[int, str]):
    """Names for the reason text, read only for the department a decision names
    (one small query) instead of every department of the city."""

    def __getitem__(self, key: int) -> str:
        name = Department.objects.filter(pk=key).values_list("name", flat=True).first()
        if name is None:
            raise KeyError(key)
        return name

    def __iter__(self) -> Iterator[int]:
        return iter(())

    def __len__(self) -> int:
        return 0


def report_route(report_id: int) -> routing.Decision | None:
    """Apply the rule table to a case, once per routing version (safe to run twice).

    Auto rules accept and dispatch (street level) or transfer up and dispatch (district
    level) as the system; propose rules set the proposed department for the center's
    one click; no rule (or a conflict) leaves the case to the street center. The
    timeline records the rule and the reason either way.
    """
    with transaction.atomic():
        report = (
            Report.objects.select_for_update(of=("self",))
            .select_related("grid", "category")
            .filter(pk=report_id)
            .first()
        )
        if report is None or report.routed_version >= report.route_version:
            return None
        version = report.route_version
        report.routed_version = version
        report.routed_at = timezone.now()
        report.save(update_fields=["routed_version", "routed_at", "updated_at"])
        if report.state not in (State.REPORTED, State.ACCEPTED):
            event_write(
                report=report,
                kind=EventKind.ROUTE_NONE,
                actor=None,
                from_state=report.state,
                note=_("案件已由中心人工处理，未自动分拨"),
                data={"version": version},
            )
            return None
        decision = decide_route(report)
        data: dict[str, Any] = {
            "version": version,
            "rule": decision.rule.id if decision.rule else None,
            "department": decision.department_id,
            "level": decision.level,
            "mode": decision.mode,
            "conflict": decision.conflict,
        }
        if decision.rule is None:
            event_write(
                report=report,
                kind=EventKind.ROUTE_NONE,
                actor=None,
                from_state=report.state,
                note=decision.reason,
                data=data,
            )
            _in_queue_on_commit(report)
            return decision
        event_write(
            report=report,
            kind=EventKind.ROUTED,
            actor=None,
            from_state=report.state,
            note=decision.reason,
            data=data,
        )
        assert decision.department_id is not None  # a rule always names a department
        department = Department.objects.select_related("region").get(pk=decision.department_id)
        if decision.mode == RoutingMode.PROPOSE:
            report.proposed_department = department
            report.save(update_fields=["proposed_department", "updated_at"])
            _in_queue_on_commit(report)
            return decision
        try:
            with transaction.atomic():
                if decision.level == "district":
                    workflow.report_transfer_up(report, actor=None, note=_("按分拨规则上报区级"))
                elif report.state == State.REPORTED:
                    workflow.report_accept(report, actor=None, note=_("按分拨规则自动立案"))
                workflow.report_dispatch(
                    report, actor=None, department=department, note=_("按分拨规则自动派遣")
                )
        except WorkflowError as e:
            # A rule pointing at a department the case cannot go to: leave it to people.
            report.proposed_department = department
            report.save(update_fields=["proposed_department", "updated_at"])
            event_write(
                report=report,
                kind=EventKind.ROUTE_NONE,
                actor=None,
                from_state=report.state,
                note=str(e),
                data=data,
            )
            _in_queue_on_commit(report)
        return decision


def _in_queue_on_commit(report: Report) -> None:
    """Tell the center a case waits in its queue (sent once the routing commits)."""
    report_id, message = report.pk, _("新案件 %(number)s 待分拨") % {"number": report.number}
    transaction.on_commit(
        lambda: notify(
            report_id=report_id, kind=NoticeKind.IN_QUEUE, message=message, recipients=center
        )
    )


# -- dry run (the admin's 试分拨 page) ------------------------------------------


@dataclass(frozen=True)
class ConsideredRule:
    rule: RoutingRule
    status: str
    matched: bool


@dataclass(frozen=True)
class DryRun:
    region: Region
    region_label: str
    category: Category
    at: datetime
    decision: routing.Decision
    rule: RoutingRule | None
    candidates: tuple[RoutingRule, ...]
    considered: tuple[ConsideredRule, ...]


def dry_run(*, category: Category, region: Region, at: datetime | None = None) -> DryRun:
    """Where a report of ``category`` in ``region`` would go at ``at``, and why.

    Also lists every rule written for a region and category on the report's paths
    (inactive and out-of-window ones included) with what became of it, so the admin sees
    which rule won and what it beat.
    """
    at = at or timezone.now()
    path = region_path_of(region)
    cpath = category_path_of(category)
    table = load_rule_table(at=at)
    rules = sorted(
        RoutingRule.objects.filter(region_id__in=path, category_id__in=cpath)
        .select_related("category", "region", "department"),
        # most specific first, as route() compares them
        key=lambda r: (-r.region.level, r.category.parent_id is None, -r.priority, r.pk),
    )
    names = names_for(
        region_ids=path, category_ids=cpath,
        department_ids={r.department_id for r in table.rules},
    )
    decision = routing.route(
        region_path=path, category_path=cpath, at=at, table=table, names=names
    )
    by_id = {rule.pk: rule for rule in rules}
    winner = by_id.get(decision.rule.id) if decision.rule else None
    candidate_ids = {c.id for c in decision.candidates}
    local = timezone.localtime(at) if timezone.is_aware(at) else at
    considered: list[ConsideredRule] = []
    for rule in rules:
        if winner is not None and rule.pk == winner.pk:
            status, matched = _("命中"), True
        elif rule.pk in candidate_ids:
            status, matched = _("冲突，未采用"), False
        elif not rule.is_active:
            status, matched = _("未启用"), False
        elif (rule.valid_from and local.date() < rule.valid_from) or (
            rule.valid_until and local.date() > rule.valid_until
        ):
            status, matched = _("不在有效期内"), False
        else:
            status, matched = _("被更具体或优先级更高的规则覆盖"), False
        considered.append(ConsideredRule(rule, status, matched))
    region_names = names.regions
    return DryRun(
        region=region,
        region_label="›".join(region_names.get(r, f"#{r}") for r in path),
        category=category,
        at=at,
        decision=decision,
        rule=winner,
        candidates=tuple(by_id[c] for c in candidate_ids if c in by_id),
        considered=tuple(considered),
    )
