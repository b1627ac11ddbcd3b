"""The tables the statistics pages and the assessment sheets show: one row per region,
department, category, source or grid worker, with counts, rates, score and the previous
period's figures. Reads only (through ``evaluation.selectors``), a fixed number of queries
whatever the number of rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from evaluation import rates as r
from evaluation.models import ScoreKind
from evaluation.selectors import (
    EvalScope,
    Period,
    child_column,
    grouped,
    rollups_for,
    totals,
    worker_rows,
)
from evaluation.services import weights_in_force
from grids.models import Department, Level, Region
from reports.models import Category, Source

BY_CHOICES: dict[str, str | Promise] = {
    "region": gettext_lazy("按区域"),
    "street": gettext_lazy("按街道"),
    "department": gettext_lazy("按部门"),
    "category": gettext_lazy("按类别"),
    "source": gettext_lazy("按来源"),
    "worker": gettext_lazy("按网格员"),
}
# The name of the first column of a table (and of its sheet), per grouping.
BY_COLUMNS: dict[str, str | Promise] = {
    "region": gettext_lazy("区域"),
    "street": gettext_lazy("街道"),
    "department": gettext_lazy("部门"),
    "category": gettext_lazy("类别"),
    "source": gettext_lazy("来源"),
    "worker": gettext_lazy("网格员"),
}
# The rates shown as table columns (all of them are in the totals card).
TABLE_RATES = (
    "valid_rate", "accept_on_time_rate", "handle_on_time_rate", "close_rate",
    "close_on_time_rate", "rework_rate", "extension_rate", "return_rate", "self_handled_rate",
)
TABLE_COUNTS = ("reported", "accepted", "dispatched", "closed", "urged", "overdue")
WORKER_COUNTS = ("reported", "valid", "self_handled", "verified")


@dataclass
class Row:
    key: Any
    label: str
    counts: dict[str, int]
    rates: dict[str, Decimal | None]  # the shown and the scored rates
    prev_rates: dict[str, Decimal | None]  # the scored rates
    score: Decimal | None
    prev_score: Decimal | None
    filters: dict[str, Any] = field(default_factory=dict)
    prev_counts: dict[str, int] = field(default_factory=dict)

    @property
    def score_delta(self) -> Decimal | None:
        if self.score is None or self.prev_score is None:
            return None
        return self.score - self.prev_score


@dataclass
class Filters:
    region: Region | None = None
    department: Department | None = None
    category: Category | None = None
    source: str = ""

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.region is not None:
            out["region"] = self.region.pk
        if self.department is not None:
            out["department"] = self.department.pk
        if self.category is not None:
            out["category"] = self.category.pk
        if self.source:
            out["source"] = self.source
        return out


@dataclass
class Table:
    by: str
    period: Period
    previous: Period
    rows: list[Row]
    total: Row
    score_kind: str
    weights: dict[str, int]
    rate_keys: tuple[str, ...]
    count_keys: tuple[str, ...]

    @property
    def total_prev_counts(self) -> dict[str, int]:
        return self.total.prev_counts


def city_of(region: Region | None) -> Region | None:
    if region is None:
        return None
    if region.level == Level.CITY:
        return region
    return Region.objects.filter(tree_id=region.tree_id, level=Level.CITY).first()


def _row(key: Any, label: str, cur: dict[str, int], prev: dict[str, int],
         weights: dict[str, int], table: tuple[r.Rate, ...], filters: dict[str, Any]) -> Row:
    """One row: the rates shown (TABLE_RATES) and scored now, the scored ones before."""
    by_key = {x.key: x for x in table}
    scored = [x for x in table if x.key in weights]
    shown = [x for x in table if x.key in TABLE_RATES or x.key in weights or table is not r.RATES]
    now_rates = {x.key: x.value(cur) for x in shown}
    prev_rates = {x.key: x.value(prev) for x in scored}
    return Row(
        key=key, label=label, counts=cur, rates=now_rates, prev_rates=prev_rates,
        score=r.score(now_rates, weights, by_key), prev_score=r.score(prev_rates, weights, by_key),
        filters=filters, prev_counts=prev,
    )


def _labels(by: str, keys: list[Any]) -> dict[Any, str]:
    if by == "region":
        return dict(Region.objects.filter(pk__in=keys).values_list("pk", "name"))
    if by == "department":
        return dict(Department.objects.filter(pk__in=keys).values_list("pk", "name"))
    if by == "category":
        return {c.pk: str(c) for c in Category.objects.filter(pk__in=keys).select_related("parent")}
    if by == "worker":
        return {u.pk: (u.full_name or u.username) for u in User.objects.filter(pk__in=keys)}
    return {k: str(Source(k).label) if k in Source.values else str(k) for k in keys}


def build_table(
    scope: EvalScope, period: Period, *, by: str, filters: Filters, top: Region | None
) -> Table:
    """The rows of one statistics table and its total row, with the previous period."""
    previous = period.previous()
    region = filters.region or top
    if by == "worker":
        return _worker_table(scope, period, previous, region)
    kw: dict[str, Any] = {
        "region": region, "department": filters.department,
        "category": filters.category.pk if filters.category else None,
        "source": filters.source or None,
    }
    if by == "region":
        column = child_column(region) if region is not None else "district"
    else:
        column = by
    key_column = column if column == "source" else f"{column}_id"
    qs = rollups_for(scope, period, group=key_column, **kw)
    prev_qs = rollups_for(scope, previous, group=key_column, **kw)
    cur, prev = grouped(qs, key_column), grouped(prev_qs, key_column)
    score_kind = ScoreKind.DEPARTMENT if by == "department" else ScoreKind.REGION
    weights = weights_in_force(city_of(region), score_kind, period.start)
    # Department 0 is "at no department": the centers' own triage, shown as its own row.
    keys = [k for k in cur if k] + [k for k in prev if k and k not in cur]
    labels = _labels("region" if by == "street" else by, keys)
    base = filters.params()
    rows = [
        _row(k, labels.get(k, "—"), cur.get(k, {}), prev.get(k, {}), weights, r.RATES,
             {**base, ("region" if by in ("region", "street") else by): k})
        for k in keys
    ]
    if 0 in cur and by == "department":
        rows.append(_row(0, _("网格中心（未派遣）"), cur[0], prev.get(0, {}), weights,
                         r.RATES, base))
    rows.sort(key=lambda row: (row.score is None, -(row.score or 0), row.label))
    total = _row("total", _("合计"), totals(qs), totals(prev_qs), weights, r.RATES, base)
    return Table(by, period, previous, rows, total, score_kind, weights, TABLE_RATES,
                 TABLE_COUNTS)


def _worker_table(
    scope: EvalScope, period: Period, previous: Period, region: Region | None
) -> Table:
    cur = worker_rows(scope, period, region=region)
    prev = worker_rows(scope, previous, region=region)
    weights = weights_in_force(city_of(region), ScoreKind.WORKER, period.start)
    labels = _labels("worker", list(cur))
    rows = [
        _row(k, labels.get(k, "—"), c, prev.get(k, {}), weights, r.WORKER_RATES, {})
        for k, c in cur.items()
    ]
    rows.sort(key=lambda row: (row.score is None, -(row.score or 0), row.label))
    sum_cur: dict[str, int] = {}
    sum_prev: dict[str, int] = {}
    for src, dst in ((cur, sum_cur), (prev, sum_prev)):
        for counts in src.values():
            for name, n in counts.items():
                dst[name] = dst.get(name, 0) + n
    total = _row("total", _("合计"), sum_cur, sum_prev, weights, r.WORKER_RATES, {})
    return Table("worker", period, previous, rows, total, ScoreKind.WORKER, weights,
                 tuple(x.key for x in r.WORKER_RATES), WORKER_COUNTS)
