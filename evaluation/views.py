"""Statistics pages (统计分析), the drill-down to the cases behind a figure, the leader's
screen (领导驾驶舱) and the assessment sheets. Thin views over selectors and tables."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.html import escape
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from evaluation import exports, screen
from evaluation.forms import DrillForm, StatsForm
from evaluation.rates import (
    COUNT_LABELS,
    RATES,
    RATES_BY_KEY,
    STAGE_LABELS,
    WORKER_RATES,
    stage_hours,
)
from evaluation.selectors import EvalScope, cases_behind, evaluation_scope, rollups_for, totals
from evaluation.tables import Table, build_table
from jinzhitong.db_router import read_replica


def _scope(request: HttpRequest) -> EvalScope:
    scope = evaluation_scope(request.user)
    if not scope.sees_anything:
        raise PermissionDenied(_("您没有查看统计的权限"))
    return scope


@login_required
@read_replica
def stats(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    form = StatsForm(request.GET or None, scope=scope)
    q = form.query()
    table = build_table(scope, q.period, by=q.by, filters=q.filters, top=q.top)
    hours = None
    if q.by != "worker":
        kw: dict[str, Any] = {"region": q.top, "department": q.filters.department,
                              "source": q.filters.source or None}
        if q.filters.category is not None:
            kw["category"] = q.filters.category.pk
        hours = stage_hours(totals(rollups_for(scope, q.period, **kw)))
    rate_defs = {x.key: x for x in (WORKER_RATES if q.by == "worker" else RATES)}
    period_params = _params(q)
    return render(request, "evaluation/stats.html", {
        "form": form, "q": q, "table": table, "rows": _present(table, period_params),
        "hours": [(STAGE_LABELS[s], avg, med) for s, (avg, med) in hours.items()]
        if hours else None,
        "rate_headers": [rate_defs[k] for k in table.rate_keys],
        "count_headers": [COUNT_LABELS.get(k) or _WORKER_COUNT_LABELS.get(k, k)
                          for k in table.count_keys],
        "export_query": urlencode({**period_params, "by": q.by}),
        "screen_query": urlencode(period_params),
        "all_rates": [
            {"label": x.label, "formula": x.formula, "value": x.value(table.total.counts),
             "prev": x.value(table.total_prev_counts)}
            for x in (RATES if q.by != "worker" else ())
        ],
        "weights_text": "，".join(
            f"{rate_defs[k].label} {w}%" for k, w in table.weights.items() if k in rate_defs
        ),
        "by_links": [(k, v, urlencode({**period_params, "by": k}))
                     for k, v in form.fields["by"].choices],
    })


_WORKER_COUNT_LABELS = {"verified": gettext_lazy("核查通过数"), "valid": gettext_lazy("有效上报数")}


def _present(table: Table, period_params: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows with their ``<tr>`` written here in one pass: a city-wide table has hundreds of
    rows of ~20 cells, and template tags cost more per cell than the queries per table.
    Counts link to the cases behind them; every text is escaped."""
    drill = table.by != "worker"
    cases_url = reverse("evaluation:cases")
    out = []
    for row in [*table.rows, table.total]:
        query = {**period_params, **row.filters}
        encoded = escape(urlencode(query))
        is_total = row is table.total
        delta = row.score_delta
        label = escape(row.label)
        if table.by in ("region", "street") and not is_total:
            # a region's row opens the same table one level down.
            href = escape("?" + urlencode({**query, "by": "region"}))
            label = f'<a href="{href}">{label}</a>'
        cells = [f'<th scope="row">{label}</th>']
        for k in table.count_keys:
            n = row.counts.get(k, 0)
            text = (f'<a href="{cases_url}?{encoded}&amp;metric={escape(k)}">{escape(n)}</a>'
                    if drill and n else escape(n))
            cells.append(f'<td class="num">{text}</td>')
        cells.extend(f'<td class="num">{_text(row.rates.get(k))}</td>' for k in table.rate_keys)
        cells.append(f'<td class="num eval-score">{_text(row.score)}</td>')
        delta_text = "—" if delta is None else (f"▲{delta}" if delta > 0 else (
            f"▼{-delta}" if delta < 0 else "0"))
        delta_class = "" if not delta else ("up" if delta > 0 else "down")
        cells.append(f'<td class="num"><span class="{delta_class}">{delta_text}</span></td>')
        total_class = ' class="eval-total"' if is_total else ""
        out.append({
            "label": row.label,
            "is_total": is_total,
            # Every value above went through escape(); the rest is this function's markup.
            "html": mark_safe(f"<tr{total_class}>{''.join(cells)}</tr>"),
        })
    return out


def _text(value: Any) -> str:
    return "—" if value is None else escape(value)


def _delta(now: Any, prev: Any) -> Any:
    return None if now is None or prev is None else now - prev


def _params(q: Any, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"period": q.period.kind, "date": q.period.start.isoformat()}
    if q.period.kind == "range":
        out["end"] = q.period.end.isoformat()
    out.update(q.filters.params())
    out.update(extra)
    return out


def _case_url(pk: int) -> str | None:
    try:
        return reverse("reports:detail", args=[pk])
    except NoReverseMatch:
        return None


@login_required
@read_replica
def cases(request: HttpRequest) -> HttpResponse:
    """The list of cases behind one figure, within what the viewer may see."""
    scope = _scope(request)
    form = DrillForm(request.GET or None, scope=scope)
    q = form.query()
    metric = form.cleaned_data.get("metric") if form.is_valid() else None
    if not metric:
        return render(request, "evaluation/cases.html",
                      {"form": form, "error": True}, status=400)
    qs = cases_behind(
        request.user, metric, q.period, region=q.filters.region,
        department=q.filters.department,
        category=q.filters.category.pk if q.filters.category else None,
        source=q.filters.source or None,
    )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    has_detail = _case_url(0) is not None
    rows = [(c, _case_url(c.pk) if has_detail else None) for c in page.object_list]
    label = COUNT_LABELS.get(metric) or dict(_METRIC_LABELS).get(metric, metric)
    return render(request, "evaluation/cases.html", {
        "form": form, "q": q, "metric": metric, "metric_label": label, "page": page,
        "rows": rows,
    })


_METRIC_LABELS = [
    ("rejected", gettext_lazy("不予立案数")), ("merged", gettext_lazy("合并数")),
    ("returns", gettext_lazy("回退次数")), ("reworked", gettext_lazy("返工结案数")),
    ("extended", gettext_lazy("延期结案数")), ("valid", gettext_lazy("有效上报数")),
]


@login_required
@read_replica
def screen_page(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    form = StatsForm(request.GET or None, scope=scope)
    q = form.query()
    q.rate = request.GET.get("rate", "")
    data = screen.screen_data(request.user, scope, q)
    return render(request, "evaluation/screen.html", {
        "q": q, "data": data, "form": form,
        "map_rates": [(k, RATES_BY_KEY[k].label) for k in screen.MAP_RATES],
        "json_query": urlencode({**_params(q), "rate": data["rate"]["key"]}),
        "stats_query": urlencode(_params(q)),
    })


@login_required
@read_replica
def screen_json(request: HttpRequest) -> JsonResponse:
    scope = _scope(request)
    q = StatsForm(request.GET or None, scope=scope).query()
    q.rate = request.GET.get("rate", "")
    return JsonResponse(screen.screen_data(request.user, scope, q))


@login_required
@read_replica
def export(request: HttpRequest) -> HttpResponse:
    """The monthly assessment sheets (考核表) by region, department or grid worker."""
    scope = _scope(request)
    form = StatsForm(request.GET or None, scope=scope)
    q = form.query()
    fmt = request.GET.get("format", "xlsx")
    if fmt not in ("xlsx", "csv"):
        return HttpResponse(_("导出格式只能是 xlsx 或 csv"), status=400,
                            content_type="text/plain; charset=utf-8")
    table = build_table(scope, q.period, by=q.by, filters=q.filters, top=q.top)
    return exports.sheet_response(table, fmt=fmt, place=q.top)
