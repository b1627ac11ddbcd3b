"""The case page (everyone in scope) and its actions.

``detail`` shows the case with only the actions the viewer may take now
(``workflow.allowed_actions``); each action is a small form POSTing to ``act``, which
calls the matching workflow function. Out of scope → 404 (``get_report_for_user``),
wrong person → 403 (``PermissionDenied``), wrong state or bad input → the page again
with the Chinese message, nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms as djforms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET, require_POST

from grids.selectors import scope_for
from jinzhitong.protected import protected_file_response
from reports import selectors, services, workflow
from reports.calendar import get_calendar
from reports.forms import desk as f
from reports.models import EventKind, PhotoKind, Report, RequestStatus, TimeRequest

# -- the actions ---------------------------------------------------------------------------

FormFactory = Callable[["Ctx", Any, Any], djforms.Form]
Perform = Callable[["Ctx", dict[str, Any]], Any]


@dataclass
class Ctx:
    """What an action form and its workflow call need to know about the request."""

    user: Any
    report: Report

    def departments(self) -> list[Any]:
        return selectors.departments_for(
            self.report, selectors.dispatchable_departments(self.user)
        )

    def pending_request(self) -> TimeRequest | None:
        return TimeRequest.objects.filter(
            report=self.report, status=RequestStatus.PENDING
        ).first()


@dataclass(frozen=True)
class Action:
    label: Any
    # The workflow transition whose checks apply (accept_dispatch → accept).
    transition: str
    form: FormFactory
    perform: Perform
    primary: bool = False


def _dispatch_form(c: Ctx, data: Any, files: Any) -> djforms.Form:
    return f.DispatchForm(data, departments=c.departments(), proposed=c.report.proposed_department)


def _decide(c: Ctx, d: dict[str, Any]) -> Any:
    request = c.pending_request()
    if request is None:
        raise workflow.WorkflowError(_("该申请不存在或已审批"))
    return workflow.report_decide_request(
        c.report, actor=c.user, request=request, grant=d["grant"], note=d["note"]
    )


ACTIONS: dict[str, Action] = {
    "accept_dispatch": Action(
        pgettext_lazy("action", "立案并派遣"),
        "accept",
        _dispatch_form,
        lambda c, d: services.report_accept_and_dispatch(
            c.report, actor=c.user, department=d["department"], note=d["note"]
        ),
        primary=True,
    ),
    "dispatch": Action(
        pgettext_lazy("action", "派遣"),
        "dispatch",
        _dispatch_form,
        lambda c, d: workflow.report_dispatch(
            c.report, actor=c.user, department=d["department"], note=d["note"]
        ),
        primary=True,
    ),
    "accept": Action(
        pgettext_lazy("action", "仅立案"),
        "accept",
        lambda c, data, files: f.NoteForm(data),
        lambda c, d: workflow.report_accept(c.report, actor=c.user, note=d["note"]),
    ),
    "reject": Action(
        pgettext_lazy("action", "不予立案"),
        "reject",
        lambda c, data, files: f.RejectForm(data),
        lambda c, d: workflow.report_reject(c.report, actor=c.user, reason=d["reason"]),
    ),
    "merge": Action(
        pgettext_lazy("action", "合并"),
        "merge",
        lambda c, data, files: f.MergeForm(
            data, candidates=selectors.merge_candidates(c.report)
        ),
        lambda c, d: workflow.report_merge(
            c.report, actor=c.user, into=d["into"], note=d["note"]
        ),
    ),
    "recategorize": Action(
        pgettext_lazy("action", "更正类别（重新分拨）"),
        "recategorize",
        lambda c, data, files: f.RecategorizeForm(data),
        lambda c, d: workflow.report_recategorize(
            c.report, actor=c.user, category=d["category"], note=d["note"]
        ),
    ),
    "transfer_up": Action(
        pgettext_lazy("action", "上报区级（吹哨）"),
        "transfer_up",
        lambda c, data, files: f.NoteForm(data),
        lambda c, d: workflow.report_transfer_up(c.report, actor=c.user, note=d["note"]),
    ),
    "send_down": Action(
        pgettext_lazy("action", "退回街道"),
        "send_down",
        lambda c, data, files: f.ReasonForm(data),
        lambda c, d: workflow.report_send_down(c.report, actor=c.user, reason=d["reason"]),
    ),
    "acknowledge": Action(
        pgettext_lazy("action", "签收"),
        "acknowledge",
        lambda c, data, files: f.NoteForm(data),
        lambda c, d: workflow.report_acknowledge(c.report, actor=c.user, note=d["note"]),
        primary=True,
    ),
    "handle": Action(
        pgettext_lazy("action", "处置完毕（反馈）"),
        "handle",
        lambda c, data, files: f.HandleForm(data, files),
        lambda c, d: workflow.report_handle(
            c.report, actor=c.user, note=d["note"], photos=d["photos"]
        ),
        primary=True,
    ),
    "request_extension": Action(
        pgettext_lazy("action", "申请延期"),
        "request_extension",
        lambda c, data, files: f.ReasonForm(data),
        lambda c, d: workflow.report_request_extension(
            c.report, actor=c.user, reason=d["reason"]
        ),
    ),
    "request_suspension": Action(
        pgettext_lazy("action", "申请挂账"),
        "request_suspension",
        lambda c, data, files: f.SuspensionForm(data),
        lambda c, d: workflow.report_request_suspension(
            c.report, actor=c.user, reason=d["reason"], until=d["until"]
        ),
    ),
    "return": Action(
        pgettext_lazy("action", "回退（非本部门职责）"),
        "return",
        lambda c, data, files: f.ReasonForm(data),
        lambda c, d: workflow.report_return(c.report, actor=c.user, reason=d["reason"]),
    ),
    "decide_request": Action(
        pgettext_lazy("action", "审批延期/挂账申请"),
        "decide_request",
        lambda c, data, files: f.DecideForm(data),
        _decide,
        primary=True,
    ),
    "verify": Action(
        pgettext_lazy("action", "核查"),
        "verify",
        lambda c, data, files: f.VerifyForm(data, files),
        lambda c, d: workflow.report_verify(
            c.report, actor=c.user, passed=d["passed"], note=d["note"], photos=d["photos"]
        ),
        primary=True,
    ),
    "close": Action(
        pgettext_lazy("action", "结案"),
        "close",
        lambda c, data, files: f.NoteForm(data),
        lambda c, d: workflow.report_close(c.report, actor=c.user, note=d["note"]),
        primary=True,
    ),
    "urge": Action(
        pgettext_lazy("action", "督办"),
        "urge",
        lambda c, data, files: f.UrgeForm(data),
        lambda c, d: workflow.report_urge(c.report, actor=c.user, note=d["note"]),
    ),
}


def offered(allowed: frozenset[str]) -> list[str]:
    """The action forms to show, in ACTIONS order, for the workflow's allowed actions."""
    return [name for name, a in ACTIONS.items() if a.transition in allowed]


@dataclass(frozen=True)
class ActionForm:
    name: str
    label: Any
    form: djforms.Form
    primary: bool
    multipart: bool


# -- the page -------------------------------------------------------------------------------

# Who usually takes each timeline step (the role column of the timeline).
_CENTER = gettext_lazy("网格中心")
_DEPARTMENT = gettext_lazy("处置部门")
_WORKER = gettext_lazy("网格员")
EVENT_ROLES: dict[str, Any] = {
    EventKind.FILED: _WORKER,
    EventKind.SELF_HANDLED: _WORKER,
    EventKind.VERIFIED: _WORKER,
    EventKind.REWORK: _WORKER,
    EventKind.ACKNOWLEDGED: _DEPARTMENT,
    EventKind.HANDLED: _DEPARTMENT,
    EventKind.RETURNED: _DEPARTMENT,
    EventKind.EXTENSION_REQUESTED: _DEPARTMENT,
    EventKind.SUSPENSION_REQUESTED: _DEPARTMENT,
}
_BEFORE = {PhotoKind.REPORT, PhotoKind.BEFORE}


def _stages(report: Report) -> list[dict[str, Any]]:
    running = workflow.running_stage(report)
    rows = [
        ("accept", _("立案"), report.accept_due, report.accept_on_time),
        ("dispatch", _("派遣"), report.dispatch_due, report.dispatch_on_time),
        ("handle", _("处置"), report.handle_due, report.handle_on_time),
        ("verify", _("核查"), report.verify_due, report.verify_on_time),
    ]
    return [
        {"stage": s, "label": label, "due": due, "on_time": on_time, "running": s == running}
        for s, label, due, on_time in rows
    ]


def _duplicates(user: Any, report: Report) -> list[Report]:
    """Cases merged into this one, each marked ``visible`` when the viewer may open it (a
    duplicate may lie in a grid the viewer does not cover: its number and time only, never
    a link, nor its grid, reporter or description — the template checks ``visible``)."""
    visible = selectors.reports_visible_to(user).filter(pk=OuterRef("pk"))
    return list(
        report.duplicates.select_related("reporter", "grid")
        .annotate(visible=Exists(visible))
        .order_by("created_at", "pk")
    )


def _render_case(
    request: HttpRequest,
    report: Report,
    *,
    bound: ActionForm | None = None,
    error: str = "",
    status: int = 200,
    open_action: str = "",
) -> HttpResponse:
    user = request.user
    allowed = workflow.allowed_actions(user, report)
    c = Ctx(user=user, report=report)
    # A pending request is shown to the center that decides it (the table offers
    # decide_request only then) and to the department that asked (who may not ask again).
    asks = {"decide_request", "request_extension", "request_suspension", "handle", "return"}
    pending = c.pending_request() if allowed & asks else None
    action_forms = []
    for name in offered(allowed):
        if bound is not None and bound.name == name:
            action_forms.append(bound)
            continue
        a = ACTIONS[name]
        form = a.form(c, None, None)
        action_forms.append(
            ActionForm(name, a.label, form, a.primary, form.is_multipart())
        )
    photos = list(report.photos.order_by("pk"))
    now = timezone.now()
    timeline = selectors.report_timeline(report)
    ctx = {
        "report": report,
        "action_forms": action_forms,
        "error": error,
        "clock": selectors.report_clock(
            report, now=now, calendar=get_calendar(), limits=selectors.stage_limits()
        ),
        "stages": _stages(report),
        "before": [p for p in photos if p.kind in _BEFORE],
        "after": [p for p in photos if p.kind not in _BEFORE],
        "timeline": [
            (e, EVENT_ROLES.get(e.kind, _CENTER if e.actor_id else _("系统")))
            for e in timeline
        ],
        "duplicates": _duplicates(user, report),
        # The master of a merged case may lie outside the viewer's scope (a duplicate filed
        # in a neighbouring grid): then its number, no link to a page that would be a 404.
        "master_visible": report.merged_into_id is not None
        and selectors.reports_visible_to(user).filter(pk=report.merged_into_id).exists(),
        "sightings": [e for e in timeline if e.kind == EventKind.SIGHTING],
        "pending": pending,
        # ?open=<action> (the triage page's links) opens that form, so one click lands on it.
        "open_action": open_action,
        "map_point": {"lat": report.lat, "lng": report.lng, "label": report.number}
        if report.lat is not None and report.lng is not None
        else None,
    }
    return render(request, "reports/case.html", ctx, status=status)


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = selectors.get_report_for_user(request.user, pk)
    # Opening a case reads its notices.
    services.notification_mark_read(user=request.user, report=report)
    return _render_case(request, report, open_action=request.GET.get("open", ""))


def _next_url(request: HttpRequest, report: Report) -> str:
    nxt = request.POST.get("next", "")
    if nxt and url_has_allowed_host_and_scheme(nxt, {request.get_host()}, request.is_secure()):
        return nxt
    return reverse("reports:detail", args=[report.pk])


@login_required
@require_POST
def act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """POST cases/<pk>/<action>/: validate the action's form, call the workflow function."""
    report = selectors.get_report_for_user(request.user, pk)
    a = ACTIONS.get(action)
    if a is None:
        raise Http404
    transition = workflow.TRANSITIONS[a.transition]
    if not transition.who(scope_for(request.user), report):
        raise PermissionDenied(_("您无权对该案件执行“%(action)s”") % {"action": transition.label})
    c = Ctx(user=request.user, report=report)
    form = a.form(c, request.POST, request.FILES)
    bound = ActionForm(action, a.label, form, a.primary, form.is_multipart())
    if not form.is_valid():
        return _render_case(request, report, bound=bound, error=_("请按提示修改后重新提交"),
                            status=400)
    try:
        a.perform(c, form.cleaned_data)
    except workflow.WorkflowError as e:
        # Nothing was written: re-read the case, show the reason.
        fresh = selectors.get_report_for_user(request.user, pk)
        return _render_case(request, fresh, bound=bound, error=str(e), status=400)
    done = _("案件 %(number)s：%(action)s 成功") % {"number": report.number, "action": a.label}
    messages.success(request, done)
    return redirect(_next_url(request, report))


@login_required
@require_GET
def photo(request: HttpRequest, pk: int, photo_pk: int) -> HttpResponseBase:
    """A case photo (``?thumb=1`` for the thumbnail, the photo while it has none), to whoever
    may see the case; nginx sends the file after this check (jinzhitong/protected.py)."""
    report = selectors.get_report_for_user(request.user, pk)
    item = report.photos.filter(pk=photo_pk).first()
    if item is None:
        raise Http404
    image = item.thumbnail if request.GET.get("thumb") and item.thumbnail else item.image
    return protected_file_response(image, content_type="image/jpeg")
