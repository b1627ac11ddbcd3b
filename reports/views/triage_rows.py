"""The triage queue's rows, written out in Python.

A triage row carries the case head, the photos, the routing suggestion and five action
forms; through templates that was ~200 template nodes a row, ~4 ms of CPU each, so a page
of 50 rows cost 200-300 ms to render (bench/request_cpu.py). Here the texts are translated
and the URLs reversed once per page, and each row is a few string joins. The markup is the
one ``reports/desk/_case_head.html``, ``_clock.html`` and ``_thumbs.html`` produce for the
other lists. Every value from the database goes through ``escape``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from reports.models import EventKind, PhotoKind, Report, RoutingRule, State, Urgency
from reports.selectors import MergeCandidate

# Descriptions longer than this show their start and a "more" that opens the rest.
SHORT_DESCRIPTION = 60


def _cut(text: str, length: int) -> str:
    """``text`` cut to ``length`` characters with "…", as the truncatechars filter does
    (Truncator costs ~0.2 ms a call: 400 merge options a page)."""
    return text if len(text) <= length else text[: length - 1] + "…"


def _labels() -> dict[str, dict[str, str]]:
    """Choice labels of the fields a row shows, translated once a page."""
    return {
        "state": {k: escape(v) for k, v in State.choices},
        "urgency": {k: escape(v) for k, v in Urgency.choices},
        "photo": {k: str(v) for k, v in PhotoKind.choices},
    }


@dataclass(frozen=True)
class _Page:
    """What every row of one page shares: texts, URL patterns, the CSRF field."""

    csrf: str
    next: str
    t: dict[str, str]
    reject_options: str

    @staticmethod
    def build(request: HttpRequest, reject_reasons: list[tuple[Any, Any]]) -> _Page:
        token = escape(get_token(request))
        csrf = f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
        texts: dict[str, str] = {
            k: escape(v) for k, v in {
                "urged": _("督办"), "no_clock": _("不计时"), "limit": _("时限"),
                "proposed": _("建议派遣"), "no_proposal": _("无分拨建议"),
                "up_hint": _("区级部门，请上报区级"), "department": _("处置部门"),
                "pick_department": _("请选择处置部门"), "accept_dispatch": _("立案并派遣"),
                "dispatch": _("派遣"), "reject": _("不予立案"), "reject_reason": _("不予立案理由"),
                "pick": _("请选择"), "detail": _("补充说明"), "confirm_reject": _("确认不予立案"),
                "send_down": _("退回街道"), "reason": _("理由"), "confirm_send_down": _("确认退回"),
                "transfer_up": _("上报区级（吹哨）"), "merge": _("合并"),
                "merge_into": _("合并到附近的案件"), "pick_case": _("请选择附近的案件"),
                "note": _("说明"), "confirm_merge": _("确认合并"),
                "no_merge": _("附近没有可合并的未办结案件。"), "recategorize": _("更正类别…"),
                "more": _("展开全文"),
            }.items()
        }
        reject = "".join(
            f'<option value="{escape(v)}">{escape(label)}</option>' for v, label in reject_reasons
        )
        return _Page(csrf, escape(request.get_full_path()), texts, reject)


def routing_reasons(reports: list[Report]) -> dict[int, str]:
    """The latest routing event of each row as a sentence a street clerk reads:
    "按规则：万兴街道 · 楼顶杂树 → 万兴街道综合执法大队" (one query for the page's rules).

    The rule's internals (its number, levels, priority) stay on the case page's timeline."""
    latest = {r.pk: r.routing_events[0] for r in reports if r.routing_events}  # type: ignore[attr-defined]
    rule_ids: set[int] = {
        e.data["rule"] for e in latest.values()
        if isinstance(e.data, dict) and isinstance(e.data.get("rule"), int)
    }
    rules = {
        rule.pk: rule
        for rule in RoutingRule.objects.filter(pk__in=rule_ids).select_related(
            "region", "category", "department"
        )
    } if rule_ids else {}
    out = {}
    for pk, event in latest.items():
        data = event.data if isinstance(event.data, dict) else {}
        rule_id = data.get("rule")
        rule = rules.get(rule_id) if isinstance(rule_id, int) else None
        if event.kind == EventKind.ROUTED and rule is not None:
            out[pk] = _("按规则：%(region)s · %(category)s → %(department)s") % {
                "region": rule.region.name, "category": rule.category.name,
                "department": rule.department.name,
            }
        elif event.kind == EventKind.ROUTED:
            out[pk] = _("按分拨规则")
        elif data.get("conflict"):
            out[pk] = _("几条分拨规则互相矛盾，请人工分拨（并请管理员修正规则）")
        elif "rule" in data and data.get("rule") is None:
            out[pk] = _("没有适用的分拨规则，请人工分拨")
        else:
            out[pk] = event.note  # already a plain sentence (e.g. handled by hand)
    return out


def _clock(row: Any, t: dict[str, str]) -> str:
    clock = row.clock
    if clock is None:
        return f'<span class="clock clock-none">{t["no_clock"]}</span>'
    due = timezone.localtime(clock.due).strftime("%Y-%m-%d %H:%M")
    return (f'<span class="clock clock-{escape(clock.state)}" title="{t["limit"]} {due}">'
            f"{escape(clock.text)}</span>")


def _head(
    row: Any, r: Report, detail: str, t: dict[str, str], labels: dict[str, dict[str, str]]
) -> str:
    urgent = (f'<span class="tag tag-urgent">{labels["urgency"].get(r.urgency, "")}</span>'
              if r.urgency == "urgent" else "")
    urged = (f'<span class="tag tag-urged">{t["urged"]} ×{r.urge_count}</span>'
             if r.urge_count else "")
    place = [f"<strong>{escape(str(r.category))}</strong>",
             f"{escape(r.community.name)} › {escape(r.grid.name)}"]
    if r.building_id:
        place.append(escape(r.building.name))  # type: ignore[union-attr]
    if r.address:
        place.append(escape(r.address))
    created = timezone.localtime(r.created_at)
    place.append(f'<time datetime="{created.isoformat()}">'
                 f'{created.strftime("%Y-%m-%d %H:%M")}</time>')
    return (
        f'<div class="case-head"><a class="case-number" href="{detail}">{escape(r.number)}</a>'
        f'{urgent}<span class="tag">{labels["state"].get(r.state, "")}</span>{urged}'
        f"{_clock(row, t)}</div>"
        f'<p class="case-meta">{" · ".join(place)}</p>'
    )


def _description(text: str, t: dict[str, str]) -> str:
    if len(text) <= SHORT_DESCRIPTION:
        return f'<p class="case-desc">{escape(text)}</p>'
    short = escape(_cut(text, SHORT_DESCRIPTION))
    return (f'<details class="case-desc"><summary>{short} <span class="more-link">'
            f'{t["more"]}</span></summary><p>{escape(text)}</p></details>')


def _thumbs(r: Report, base: str, kinds: dict[str, str]) -> str:
    photos = r.photo_list  # type: ignore[attr-defined]
    if not photos:
        return ""
    items = []
    for n, p in enumerate(photos, 1):
        url = escape(f"{base}photos/{p.pk}/")
        alt = escape(_("%(kind)s（第%(n)s张）") % {"kind": kinds.get(p.kind, p.kind), "n": n})
        items.append(
            f'<li><a href="{url}" target="_blank" rel="noopener"><img src="{url}?thumb=1" '
            f'alt="{alt}" loading="lazy" width="96" height="72"></a></li>'
        )
    return f'<ul class="thumbs">{"".join(items)}</ul>'


def triage_rows(
    request: HttpRequest, rows: list[Any], reasons: dict[int, str],
    reject_reasons: list[tuple[Any, Any]],
) -> list[SafeString]:
    page = _Page.build(request, reject_reasons)
    t, csrf, nxt = page.t, page.csrf, page.next
    hidden_next = f'<input type="hidden" name="next" value="{nxt}">'
    labels = _labels()
    out = []
    for row in rows:
        r: Report = row.report
        pk = r.pk
        # reports:act and reports:photo are reports:detail + "<action>/" and
        # + "photos/<id>/" (reports/urls.py): one reverse a row.
        base = reverse("reports:detail", args=[pk])
        detail = escape(base)

        def act(action: str, base: str = base) -> str:
            return escape(f"{base}{action}/")

        extra = row.extra
        parts = [
            f'<article class="card case-row" aria-labelledby="case-{pk}">'
            f'<h2 id="case-{pk}" class="visually-hidden">{escape(r.number)}</h2>',
            _head(row, r, detail, t, labels),
            _description(r.description, t),
            _thumbs(r, base, labels["photo"]),
        ]
        proposal = (f'<strong>{t["proposed"]}：{escape(r.proposed_department.name)}</strong>'
                    if r.proposed_department else f'<strong>{t["no_proposal"]}</strong>')
        if extra["propose_up"]:
            proposal += f'<strong>（{t["up_hint"]}）</strong>'
        reason = reasons.get(pk)
        if reason:
            proposal += f' <span class="muted small">（{escape(reason)}）</span>'
        parts.append(f'<p class="routing">{proposal}</p>')
        options = "".join(
            f'<option value="{d.pk}"{" selected" if d.pk == r.proposed_department_id else ""}>'
            f"{escape(d.name)}</option>"
            for d in extra["departments"]
        )
        reported = r.state == State.REPORTED
        parts.append(
            f'<div class="row-actions"><form method="post" action="{act(extra["action"])}" '
            f'class="dispatch-form">{csrf}{hidden_next}'
            f'<label for="dept-{pk}">{t["department"]}</label>'
            f'<select name="department" id="dept-{pk}" required><option value="">'
            f'{t["pick_department"]}</option>{options}</select>'
            f'<button type="submit" class="btn primary-btn">'
            f'{t["accept_dispatch"] if reported else t["dispatch"]}</button></form>'
        )
        if reported:
            parts.append(
                f'<details class="more"><summary>{t["reject"]}</summary>'
                f'<form method="post" action="{act("reject")}">{csrf}{hidden_next}'
                f'<div class="field"><label for="rc-{pk}">{t["reject_reason"]}</label>'
                f'<select name="choice" id="rc-{pk}" required><option value="">{t["pick"]}'
                f"</option>{page.reject_options}</select></div>"
                f'<div class="field"><label for="rd-{pk}">{t["detail"]}</label>'
                f'<textarea name="detail" id="rd-{pk}" rows="2" maxlength="500"></textarea></div>'
                f'<button type="submit" class="btn">{t["confirm_reject"]}</button></form></details>'
            )
        if r.state == State.TRANSFERRED:
            parts.append(
                f'<details class="more"><summary>{t["send_down"]}</summary>'
                f'<form method="post" action="{act("send_down")}">{csrf}{hidden_next}'
                f'<label for="sd-{pk}">{t["reason"]}</label>'
                f'<textarea id="sd-{pk}" name="reason" rows="2" required></textarea>'
                f'<button type="submit" class="btn">{t["confirm_send_down"]}</button>'
                f"</form></details>"
            )
        else:
            primary = " primary-btn" if extra["propose_up"] else ""
            parts.append(
                f'<form method="post" action="{act("transfer_up")}" class="inline">{csrf}'
                f'{hidden_next}<button type="submit" class="btn{primary}">{t["transfer_up"]}'
                f"</button></form>"
            )
            parts.append(_merge(r, extra["merge"], act("merge"), csrf + hidden_next, t))
        parts.append(
            f'<a class="btn" href="{detail}?open=recategorize#action-recategorize">'
            f'{t["recategorize"]}</a></div></article>'
        )
        # Every database value above went through escape(); the rest is this markup.
        out.append(mark_safe("".join(parts)))
    return out


def _merge(
    r: Report, candidates: list[MergeCandidate], url: str, hidden: str, t: dict[str, str]
) -> str:
    pk = r.pk
    if not candidates:
        body = f'<p class="muted small">{t["no_merge"]}</p>'
    else:
        options = "".join(
            f'<option value="{c.pk}">{escape(c.number)} {escape(c.category_name)} '
            f"{escape(_cut(c.description, 20))}</option>"
            for c in candidates
        )
        body = (
            f'<form method="post" action="{url}">{hidden}'
            f'<div class="field"><label for="mi-{pk}">{t["merge_into"]}</label>'
            f'<select name="into" id="mi-{pk}" required><option value="">{t["pick_case"]}'
            f"</option>{options}</select></div>"
            f'<div class="field"><label for="mn-{pk}">{t["note"]}</label>'
            f'<textarea name="note" id="mn-{pk}" rows="2" maxlength="500"></textarea></div>'
            f'<button type="submit" class="btn">{t["confirm_merge"]}</button></form>'
        )
    return f'<details class="more"><summary>{t["merge"]}</summary>{body}</details>'
