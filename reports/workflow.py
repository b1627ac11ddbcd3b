"""The case lifecycle: every state change of a ``Report`` happens here and nowhere else.

Each transition is one function ``report_<verb>(report, *, actor, ...)`` that

1. locks the case row (``select_for_update``) inside a transaction,
2. checks the actor's role and place (``PermissionDenied``) and the current state
   (``WorkflowError``) against ``TRANSITIONS``,
3. saves with ``update_fields``, freezing the on-time flag of the stage that ended and
   setting the deadline of the stage that starts,
4. writes one timeline event and schedules the notices the table declares for it
   (``_record``; 吹哨 from ``reported`` records the acceptance first),
5. schedules other side effects with ``transaction.on_commit``.

See docs/workflow.md for the state diagram and who may do what.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_
from django.utils.translation import pgettext_lazy

from accounts.models import User
from grids.models import Department, Role
from grids.selectors import Scope, region_contains, scope_for
from reports import effects, notifications, sla
from reports.calendar import get_calendar
from reports.errors import WorkflowError
from reports.events import event_write
from reports.fit import department_fits
from reports.models import (
    OPEN_STATES,
    Category,
    DispatchLevel,
    EventKind,
    FilingStandard,
    Report,
    ReportEvent,
    RequestKind,
    RequestStatus,
    Stage,
    StageLimit,
    State,
    TimeRequest,
)
from reports.notifications import NoticeKind, Recipients
from reports.photos import files_removed_on_failure, photos_ingest, photos_prepare

# -- who may act ---------------------------------------------------------------------


def _ids(scope: Scope, *roles: str) -> set[int]:
    return {r.pk for r in scope.regions_for(*roles)}


def is_street_center(scope: Scope, report: Report) -> bool:
    return report.street_id in _ids(scope, Role.STREET_STAFF)


def is_district_center(scope: Scope, report: Report) -> bool:
    return report.district_id in _ids(scope, Role.DISTRICT_STAFF)


def is_dispatching_center(scope: Scope, report: Report) -> bool:
    """The center that dispatched the case (street or district) decides on its requests."""
    if report.dispatch_level == DispatchLevel.DISTRICT:
        return is_district_center(scope, report)
    return is_street_center(scope, report)


def is_handler(scope: Scope, report: Report) -> bool:
    return report.department_id is not None and report.department_id in {
        d.pk for d in scope.departments
    }


def is_grid_worker(scope: Scope, report: Report) -> bool:
    return report.grid_id in _ids(scope, Role.GRID_WORKER) or report.community_id in _ids(
        scope, Role.GRID_HEAD
    )


def is_leader(scope: Scope, report: Report) -> bool:
    return any(region_contains(r, report.grid) for r in scope.regions_for(Role.LEADER))


def is_any_center(scope: Scope, report: Report) -> bool:
    return is_street_center(scope, report) or is_district_center(scope, report)


def is_urger(scope: Scope, report: Report) -> bool:
    return is_any_center(scope, report) or is_leader(scope, report)


def is_closer(scope: Scope, report: Report) -> bool:
    return is_street_center(scope, report) or (
        report.dispatch_level == DispatchLevel.DISTRICT and is_district_center(scope, report)
    )


def is_dispatcher(scope: Scope, report: Report) -> bool:
    """A transferred case is the district center's to dispatch; an accepted one the
    street center's — each to a department of its own level."""
    if report.state == State.TRANSFERRED:
        return is_district_center(scope, report)
    return is_street_center(scope, report)


def nobody(scope: Scope, report: Report) -> bool:
    """System-only transitions: no person may take them."""
    return False


def _no_guard(report: Report) -> str | None:
    return None


def _pending_request(report: Report) -> bool:
    return TimeRequest.objects.filter(report=report, status=RequestStatus.PENDING).exists()


def _nothing_pending(report: Report) -> str | None:
    # One open request at a time (the reports_one_pending_request constraint).
    return _("该案件已有待审批的申请") if _pending_request(report) else None


def _something_pending(report: Report) -> str | None:
    return None if _pending_request(report) else _("该案件没有待审批的延期或挂账申请")


def _extensions_left(report: Report) -> str | None:
    if report.extension_count >= sla.MAX_EXTENSIONS:
        return _("该案件已延期 %(n)s 次，不能再申请延期") % {"n": report.extension_count}
    return _nothing_pending(report)


def _suspension_unused(report: Report) -> str | None:
    if report.suspension_used:
        return _("每件案件只能挂账一次")
    return _nothing_pending(report)


def _is_suspended(report: Report) -> str | None:
    return None if report.suspended else _("案件未挂账，无需恢复计时")


# -- who is told ------------------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    """A notice a transition sends once it commits: its kind, who is told (a function of
    the case after the transition, from ``reports.notifications``) and the text, built
    from the case and the event just written. ``on`` limits it to some of the event
    kinds the transition writes (verify: passed or rework); empty means every one."""

    kind: str
    recipients: Recipients
    message: Callable[[Report, ReportEvent], str]
    on: frozenset[str] = frozenset()


def _text(
    msgid: str, **values: Callable[[Report, ReportEvent], Any]
) -> Callable[[Report, ReportEvent], str]:
    """A notice text: a msgid (marked with ``gettext_noop``, translated when the notice is
    written) with ``%(number)s`` and the named values."""

    def build(r: Report, e: ReportEvent) -> str:
        return _(msgid) % {"number": r.number, **{k: f(r, e) for k, f in values.items()}}

    return build


def _note(r: Report, e: ReportEvent) -> str:
    return e.note


def _department_name(r: Report, e: ReportEvent) -> str:
    return r.department.name if r.department is not None else ""


_DECISIONS: dict[str, tuple[str, bool]] = {
    EventKind.EXTENSION_GRANTED: (RequestKind.EXTENSION, True),
    EventKind.EXTENSION_REFUSED: (RequestKind.EXTENSION, False),
    EventKind.SUSPENSION_GRANTED: (RequestKind.SUSPENSION, True),
    EventKind.SUSPENSION_REFUSED: (RequestKind.SUSPENSION, False),
}


def _decision_text(r: Report, e: ReportEvent) -> str:
    kind, granted = _DECISIONS[e.kind]
    return _("案件 %(number)s 的%(request)s申请%(answer)s") % {
        "number": r.number,
        "request": RequestKind(kind).label,
        "answer": _("已批准") if granted else _("已驳回"),
    }


@dataclass(frozen=True)
class Transition:
    """Which states an action starts from, who may take it, what else the case needs,
    what it records and whom it tells.

    ``who`` decides for people (level checks included, per state); ``system`` says
    whether the system (``actor=None``: routing, the periodic sweeps) may take it;
    ``guard`` returns why the case refuses the action now (or None) — pending requests
    included; ``targets`` are the states the action may lead to (empty: the case keeps
    its state), read by the case generator and the docs so that a change to the
    lifecycle cannot leave them behind; ``event`` is the timeline kind it writes (verify
    and decide_request choose among several); ``notices`` are sent once it commits
    (``_record``)."""

    sources: frozenset[str]
    who: Callable[[Scope, Report], bool]
    label: str | Promise  # lazy: shown in the reader's language
    system: bool = False
    guard: Callable[[Report], str | None] = _no_guard
    targets: frozenset[str] = frozenset()
    event: str = ""
    notices: tuple[Notice, ...] = ()


_TRIAGE = frozenset({State.REPORTED, State.ACCEPTED})
_AT_DEPARTMENT = frozenset({State.DISPATCHED, State.ACKNOWLEDGED})

# The transition table (Oscar's pipeline): action → allowed source states and actor, the
# event it writes and the notices it sends. ``allowed_actions`` and ``_check`` both read
# it, so what the UI offers is what the transition functions accept
# (tests/reports/test_allowed_actions.py walks it, on the rendered case page too), and
# ``_record`` reads it, so every hand-off tells someone (tests/reports/test_notifications.py).
TRANSITIONS: dict[str, Transition] = {
    # Not a hand-off: the center that accepts dispatches next (routing tells it through
    # ``in_queue`` when a case waits for people).
    "accept": Transition(
        frozenset({State.REPORTED}), is_street_center, pgettext_lazy("action", "立案"), system=True,
        targets=frozenset({State.ACCEPTED}),
        event=EventKind.ACCEPTED,
    ),
    "reject": Transition(
        frozenset({State.REPORTED}), is_street_center, pgettext_lazy("action", "不予立案"),
        targets=frozenset({State.REJECTED}),
        event=EventKind.REJECTED,
        notices=(
            Notice(NoticeKind.REJECTED, notifications.reporter,
                   _text(N_("您上报的案件 %(number)s 不予立案：%(reason)s"), reason=_note)),
        ),
    ),
    "merge": Transition(_TRIAGE, is_street_center, pgettext_lazy("action", "合并"),
        targets=frozenset({State.MERGED}),
        event=EventKind.MERGED,
        notices=(
            Notice(NoticeKind.MERGED, notifications.reporter,
                   _text(N_("您上报的案件 %(number)s 已合并到案件 %(into)s 一并办理"),
                         into=lambda r, e: e.data["into_number"])),
        ),
    ),
    "recategorize": Transition(
        frozenset({State.REPORTED, State.ACCEPTED, State.TRANSFERRED}),
        is_any_center,
        pgettext_lazy("action", "更正类别/位置"),
        event=EventKind.RECATEGORIZED,
        notices=(
            Notice(NoticeKind.RECATEGORIZED, notifications.reporter,
                   _text(N_("您上报的案件 %(number)s 类别已更正为“%(category)s”，重新分拨"),
                         category=lambda r, e: str(r.category))),
        ),
    ),
    "dispatch": Transition(
        frozenset({State.ACCEPTED, State.TRANSFERRED}),
        is_dispatcher,
        pgettext_lazy("action", "派遣"),
        system=True,
        targets=frozenset({State.DISPATCHED}),
        event=EventKind.DISPATCHED,
        notices=(
            Notice(NoticeKind.DISPATCHED, notifications.department,
                   _text(N_("案件 %(number)s 已派遣至%(dept)s，请签收"), dept=_department_name)),
        ),
    ),
    "transfer_up": Transition(
        _TRIAGE, is_street_center, pgettext_lazy("action", "上报区级"), system=True,
        targets=frozenset({State.TRANSFERRED}),
        event=EventKind.TRANSFERRED,
        notices=(
            Notice(NoticeKind.TRANSFERRED, notifications.center,
                   _text(N_("案件 %(number)s 已上报区级，请派遣"))),
        ),
    ),
    "send_down": Transition(
        frozenset({State.TRANSFERRED}), is_district_center, pgettext_lazy("action", "退回街道"),
        targets=frozenset({State.ACCEPTED}),
        event=EventKind.SENT_DOWN,
        notices=(
            Notice(NoticeKind.SENT_DOWN, notifications.street_center,
                   _text(N_("案件 %(number)s 被区网格中心退回街道：%(reason)s"), reason=_note)),
        ),
    ),
    "acknowledge": Transition(
        frozenset({State.DISPATCHED}), is_handler, pgettext_lazy("action", "签收"),
        targets=frozenset({State.ACKNOWLEDGED}),
        event=EventKind.ACKNOWLEDGED,
        notices=(
            Notice(NoticeKind.ACKNOWLEDGED, notifications.reporter,
                   _text(N_("您上报的案件 %(number)s 已由%(dept)s签收，正在处置"),
                         dept=_department_name)),
        ),
    ),
    "return": Transition(_AT_DEPARTMENT, is_handler, pgettext_lazy("action", "回退"),
        targets=frozenset({State.ACCEPTED, State.TRANSFERRED}),
        event=EventKind.RETURNED,
        notices=(
            Notice(NoticeKind.RETURNED, notifications.center,
                   _text(N_("案件 %(number)s 被%(dept)s回退：%(reason)s"),
                         dept=lambda r, e: e.data["department_name"], reason=_note)),
        ),
    ),
    "handle": Transition(
        frozenset({State.ACKNOWLEDGED}), is_handler, pgettext_lazy("action", "处置完毕"),
        targets=frozenset({State.HANDLED}),
        event=EventKind.HANDLED,
        notices=(
            Notice(NoticeKind.HANDLED, notifications.grid_workers,
                   _text(N_("案件 %(number)s 已处置完毕，请到现场核查"))),
        ),
    ),
    "request_extension": Transition(
        _AT_DEPARTMENT, is_handler, pgettext_lazy("action", "申请延期"), guard=_extensions_left,
        event=EventKind.EXTENSION_REQUESTED,
        notices=(
            Notice(NoticeKind.EXTENSION_REQUESTED, notifications.center,
                   _text(N_("案件 %(number)s 申请延期，请审批：%(reason)s"), reason=_note)),
        ),
    ),
    "request_suspension": Transition(
        _AT_DEPARTMENT, is_handler, pgettext_lazy("action", "申请挂账"), guard=_suspension_unused,
        event=EventKind.SUSPENSION_REQUESTED,
        notices=(
            Notice(NoticeKind.SUSPENSION_REQUESTED, notifications.center,
                   _text(N_("案件 %(number)s 申请挂账，请审批：%(reason)s"), reason=_note)),
        ),
    ),
    "decide_request": Transition(
        _AT_DEPARTMENT, is_dispatching_center, pgettext_lazy("action", "审批延期/挂账"),
        guard=_something_pending,
        notices=(Notice(NoticeKind.REQUEST_DECIDED, notifications.department, _decision_text),),
    ),
    "verify": Transition(
        frozenset({State.HANDLED}), is_grid_worker, pgettext_lazy("action", "核查"),
        targets=frozenset({State.VERIFIED, State.ACKNOWLEDGED}),
        notices=(
            Notice(NoticeKind.VERIFIED, notifications.center,
                   _text(N_("案件 %(number)s 核查通过，待结案")),
                   on=frozenset({EventKind.VERIFIED})),
            Notice(NoticeKind.REWORK, notifications.department,
                   _text(N_("案件 %(number)s 核查未通过，请返工：%(note)s"), note=_note),
                   on=frozenset({EventKind.REWORK})),
        ),
    ),
    "close": Transition(frozenset({State.VERIFIED}), is_closer, pgettext_lazy("action", "结案"),
        targets=frozenset({State.CLOSED}),
        event=EventKind.CLOSED,
        notices=(
            Notice(NoticeKind.CLOSED, notifications.reporter,
                   _text(N_("您上报的案件 %(number)s 已结案"))),
        ),
    ),
    "urge": Transition(
        frozenset(OPEN_STATES), is_urger, pgettext_lazy("action", "督办"),
        event=EventKind.URGED,
        notices=(
            Notice(NoticeKind.URGED, notifications.department_or_center,
                   _text(N_("案件 %(number)s 被督办：%(note)s"), note=_note)),
        ),
    ),
    # System transitions: the periodic sweep resumes suspensions and flags overdue cases.
    "resume": Transition(
        _AT_DEPARTMENT,
        nobody,
        pgettext_lazy("action", "恢复计时"),
        system=True,
        guard=_is_suspended,
        event=EventKind.RESUMED,
        notices=(
            Notice(NoticeKind.RESUMED, notifications.department,
                   _text(N_("案件 %(number)s 挂账期满，已恢复计时，请继续处置"))),
        ),
    ),
    "mark_overdue": Transition(
        frozenset(OPEN_STATES), nobody, pgettext_lazy("action", "标记超期"), system=True,
        event=EventKind.OVERDUE,
        notices=(
            Notice(NoticeKind.OVERDUE, notifications.center_and_leaders,
                   _text(N_("案件 %(number)s 已超期（%(state)s）"),
                         state=lambda r, e: r.get_state_display())),
        ),
    ),
}


def allowed_actions(user: Any, report: Report) -> frozenset[str]:
    """The actions this user may take on the case in its current state; ``user=None``
    is the system (routing, the periodic sweeps)."""
    scope = None if user is None else scope_for(user)
    return frozenset(
        name
        for name, t in TRANSITIONS.items()
        if report.state in t.sources
        and (t.system if scope is None else t.who(scope, report))
        and t.guard(report) is None
    )


def _check(action: str, actor: User | None, report: Report) -> None:
    """Refuse a transition: wrong person → PermissionDenied, wrong state → WorkflowError.

    ``actor=None`` is the system, allowed only where the table says ``system``."""
    t = TRANSITIONS[action]
    if actor is None:
        if not t.system:
            raise PermissionDenied(_("“%(action)s”须由工作人员执行") % {"action": t.label})
    elif not t.who(scope_for(actor), report):
        raise PermissionDenied(_("您无权对该案件执行“%(action)s”") % {"action": t.label})
    if report.state not in t.sources:
        raise WorkflowError(
            _("案件当前状态为“%(state)s”，不能%(action)s")
            % {"state": report.get_state_display(), "action": t.label}
        )
    refusal = t.guard(report)
    if refusal is not None:
        raise WorkflowError(refusal)


@contextmanager
def _locked(report: Report) -> Iterator[Report]:
    """The case row, locked for the rest of the transaction, with its grid loaded.

    Photo files written inside are removed if the transaction fails (``reports.photos``)."""
    with files_removed_on_failure(), transaction.atomic():
        yield (
            Report.objects.select_for_update(of=("self",))
            .select_related("grid", "standard", "department")
            .get(pk=report.pk)
        )


def _save(report: Report, *fields: str) -> None:
    report.save(update_fields=[*fields, "updated_at"])


# The longest note or reason a transition takes (the desk forms ask for at most 500, the
# phone's verify note 2,000); a longer one is refused, never cut.
MAX_NOTE = 2000


def check_text(text: str, *, limit: int, what: str | Promise) -> str:
    """The text, stripped; refused with a Chinese message when longer than ``limit``."""
    text = (text or "").strip()
    if len(text) > limit:
        raise WorkflowError(
            _("%(what)s最多 %(limit)s 字，现有 %(n)s 字，请删减后再提交")
            % {"what": what, "limit": limit, "n": len(text)}
        )
    return text


def _require(text: str, message: str) -> str:
    text = check_text(text, limit=MAX_NOTE, what=_("说明"))
    if not text:
        raise WorkflowError(message)
    return text


def _record(
    r: Report,
    action: str,
    *,
    actor: User | None,
    from_state: str,
    to_state: str = "",
    note: str = "",
    data: dict[str, Any] | None = None,
    kind: str = "",
) -> ReportEvent:
    """Write the transition's one timeline event and schedule the notices the table
    declares for it, sent once (and only if) this transaction commits."""
    t = TRANSITIONS[action]
    event = event_write(
        report=r,
        kind=kind or t.event,
        actor=actor,
        from_state=from_state,
        to_state=to_state or r.state,
        note=check_text(note, limit=MAX_NOTE, what=_("说明")),
        data=data,
    )
    report_id, actor_id = r.pk, actor.pk if actor is not None else None
    for notice in t.notices:
        if notice.on and event.kind not in notice.on:
            continue
        _notify_on_commit(notice, notice.message(r, event), report_id, actor_id)
    return event


def _notify_on_commit(notice: Notice, message: str, report_id: int, actor_id: int | None) -> None:
    transaction.on_commit(
        lambda: notifications.notify(
            report_id=report_id,
            kind=notice.kind,
            message=message,
            recipients=notice.recipients,
            actor_id=actor_id,
        )
    )


# -- clocks --------------------------------------------------------------------------

DEFAULT_HANDLE_LIMIT = (Decimal(5), sla.LimitUnit.WORKING_DAYS)


def stage_limit(stage: str) -> tuple[Decimal, sla.LimitUnit]:
    row = StageLimit.objects.filter(stage=stage).first()
    if row is None:
        return Decimal("0.25"), sla.LimitUnit.WORKING_HOURS
    return row.amount, sla.LimitUnit(row.unit)


def handle_limit(report: Report) -> tuple[Decimal, sla.LimitUnit]:
    """The handling limit comes from the case's filing standard (立案条件)."""
    if report.standard is not None:
        return report.standard.limit_amount, sla.LimitUnit(report.standard.limit_unit)
    return DEFAULT_HANDLE_LIMIT


def _due(start: datetime, limit: tuple[Decimal, sla.LimitUnit]) -> datetime:
    amount, unit = limit
    return sla.deadline(start, amount, unit, calendar=get_calendar())


def _on_time(now: datetime, due: datetime | None) -> bool | None:
    return None if due is None else now <= due


def _start_accept_clock(report: Report, now: datetime) -> None:
    report.accept_due = _due(now, stage_limit(Stage.ACCEPT))


def _start_dispatch_clock(report: Report, now: datetime) -> list[str]:
    report.dispatch_due = _due(now, stage_limit(Stage.DISPATCH))
    report.dispatch_on_time = None
    report.is_overdue = False
    return ["dispatch_due", "dispatch_on_time", "is_overdue"]


def _end_accept_clock(report: Report, now: datetime) -> list[str]:
    if report.accept_on_time is None:
        report.accept_on_time = _on_time(now, report.accept_due)
    report.is_overdue = False
    return ["accept_on_time", "is_overdue"]

# -- transitions ---------------------------------------------------------------------


def report_accept(report: Report, *, actor: User | None, note: str = "") -> Report:
    """立案: the street center accepts a reported problem as a case."""
    with _locked(report) as r:
        _check("accept", actor, r)
        _accept(r, actor=actor, note=note, now=timezone.now())
    return r


def _accept(r: Report, *, actor: User | None, note: str, now: datetime) -> None:
    """Record the acceptance: the accept stage ends (its flag frozen), dispatch starts."""
    fields = _end_accept_clock(r, now)
    fields += _start_dispatch_clock(r, now)
    r.state = State.ACCEPTED
    _save(r, "state", *fields)
    _record(r, "accept", actor=actor, from_state=State.REPORTED, note=note)


def report_reject(report: Report, *, actor: User, reason: str) -> Report:
    """不予立案: the report is not a case for us (reason required); the reporter is told."""
    reason = _require(reason, _("请填写不予立案的理由"))
    with _locked(report) as r:
        _check("reject", actor, r)
        now = timezone.now()
        fields = _end_accept_clock(r, now)
        r.state = State.REJECTED
        r.closed_at = now
        _save(r, "state", "closed_at", *fields)
        _record(r, "reject", actor=actor, from_state=State.REPORTED, note=reason)
    return r


def report_merge(report: Report, *, actor: User, into: Report, note: str = "") -> Report:
    """Merge a duplicate into an open case of the same street; its reporter is told."""
    with _locked(report) as r:
        _check("merge", actor, r)
        target = Report.objects.filter(pk=into.pk).first()
        if target is None or target.pk == r.pk or target.street_id != r.street_id:
            raise WorkflowError(_("只能合并到本街道的另一件案件"))
        if target.state not in OPEN_STATES:
            raise WorkflowError(_("目标案件已办结，不能合并"))
        now = timezone.now()
        from_state = r.state
        fields = _end_accept_clock(r, now) if from_state == State.REPORTED else []
        r.state = State.MERGED
        r.merged_into = target
        r.closed_at = now
        _save(r, "state", "merged_into", "closed_at", *fields)
        _record(
            r, "merge", actor=actor, from_state=from_state, note=note,
            data={"into": target.pk, "into_number": target.number},
        )
    return r


def report_dispatch(
    report: Report, *, actor: User | None, department: Department, note: str = ""
) -> Report:
    """派遣: the street center (state accepted) or the district center (state transferred)
    sends the case to a department of its own level."""
    with _locked(report) as r:
        level = DispatchLevel.DISTRICT if r.state == State.TRANSFERRED else DispatchLevel.STREET
        _check("dispatch", actor, r)
        department = Department.objects.select_related("region").get(pk=department.pk)
        if not department.is_active or not department_fits(r, department, level):
            raise WorkflowError(
                _("“%(dept)s”不是本%(level)s可派遣的处置部门")
                % {"dept": department.name, "level": DispatchLevel(level).label}
            )
        now = timezone.now()
        from_state = r.state
        r.dispatch_on_time = _on_time(now, r.dispatch_due)
        r.state = State.DISPATCHED
        r.department = department
        r.dispatch_level = level
        r.proposed_department = None
        r.handle_started = now
        r.handle_due = _due(now, handle_limit(r))
        r.handle_on_time = None
        r.is_overdue = False
        _save(
            r,
            "state",
            "department",
            "dispatch_level",
            "proposed_department",
            "dispatch_on_time",
            "handle_started",
            "handle_due",
            "handle_on_time",
            "is_overdue",
        )
        _record(
            r, "dispatch", actor=actor, from_state=from_state, note=note,
            data={
                "department": department.pk,
                "department_name": department.name,
                "level": level,
                "handle_due": r.handle_due.isoformat(),
            },
        )
    return r


def report_transfer_up(report: Report, *, actor: User | None, note: str = "") -> Report:
    """吹哨 / 上报区级: the street cannot solve it; the district center takes over.

    From ``reported`` the street accepts the case on the way (吹哨 is a 立案 too): the
    acceptance is recorded — its event and the accept stage's frozen flag — before the
    transfer, so the timeline, the deadlines table and the statistics agree."""
    with _locked(report) as r:
        _check("transfer_up", actor, r)
        now = timezone.now()
        if r.state == State.REPORTED:
            _accept(r, actor=actor, note="", now=now)
        # The street's dispatch stage ends here: it handed the case on.
        r.dispatch_on_time = _on_time(now, r.dispatch_due)
        r.state = State.TRANSFERRED
        r.dispatch_due = _due(now, stage_limit(Stage.DISPATCH))
        r.is_overdue = False
        _save(r, "state", "dispatch_due", "dispatch_on_time", "is_overdue")
        _record(r, "transfer_up", actor=actor, from_state=State.ACCEPTED, note=note)
    return r


def report_send_down(report: Report, *, actor: User, reason: str) -> Report:
    """The district center sends a transferred case back to the street (reason required)."""
    reason = _require(reason, _("请填写退回街道的理由"))
    with _locked(report) as r:
        _check("send_down", actor, r)
        now = timezone.now()
        r.state = State.ACCEPTED
        fields = _start_dispatch_clock(r, now)
        _save(r, "state", *fields)
        _record(r, "send_down", actor=actor, from_state=State.TRANSFERRED, note=reason)
    return r


def report_acknowledge(report: Report, *, actor: User, note: str = "") -> Report:
    """签收: the department takes the case on; the reporter is told."""
    with _locked(report) as r:
        _check("acknowledge", actor, r)
        r.state = State.ACKNOWLEDGED
        _save(r, "state")
        _record(r, "acknowledge", actor=actor, from_state=State.DISPATCHED, note=note)
    return r


def _end_suspension(r: Report, now: datetime) -> list[str]:
    """Resume the clock: the handling deadline moves by the paused counting time."""
    if not r.suspended or r.suspended_at is None or r.handle_due is None:
        return []
    _amount, unit = handle_limit(r)
    r.handle_due = sla.deadline_after_pause(
        r.handle_due, r.suspended_at, now, unit, calendar=get_calendar()
    )
    r.suspended = False
    return ["handle_due", "suspended"]


def report_return(report: Report, *, actor: User, reason: str) -> Report:
    """回退: not this department's case; back to the center that dispatched it.

    A return is never a resolution: the case goes back to triage and is counted."""
    reason = _require(reason, _("请填写回退理由"))
    with _locked(report) as r:
        _check("return", actor, r)
        now = timezone.now()
        from_state = r.state
        department = r.department
        fields = _end_suspension(r, now)
        r.state = (
            State.TRANSFERRED if r.dispatch_level == DispatchLevel.DISTRICT else State.ACCEPTED
        )
        r.department = None
        r.handle_due = None
        r.handle_started = None
        r.return_count += 1
        fields += _start_dispatch_clock(r, now)
        _save(r, "state", "department", "handle_due", "handle_started", "return_count", *fields)
        TimeRequest.objects.filter(report=r, status=RequestStatus.PENDING).update(
            status=RequestStatus.REFUSED, decided_at=now, decision_note=_("案件已回退")
        )
        _record(
            r, "return", actor=actor, from_state=from_state, note=reason,
            data={
                "department": department.pk if department else None,
                "department_name": department.name if department else "",
            },
        )
    return r


def report_handle(
    report: Report, *, actor: User, note: str, photos: list[Any] | None = None
) -> Report:
    """处置完毕 / 反馈: the department reports the problem fixed, with result photos.

    The grid worker then checks on site (核查)."""
    note = _require(note, _("请填写处置结果"))
    if not photos:
        raise WorkflowError(_("请上传至少一张处置结果照片"))
    photos = prepare_photos(photos)

    with _locked(report) as r:
        _check("handle", actor, r)
        now = timezone.now()
        fields = _end_suspension(r, now)
        r.state = State.HANDLED
        r.handle_on_time = _on_time(now, r.handle_due)
        r.verify_due = _due(now, stage_limit(Stage.VERIFY))
        r.verify_on_time = None
        r.is_overdue = False
        _save(r, "state", "handle_on_time", "verify_due", "verify_on_time", "is_overdue", *fields)
        event = _record(r, "handle", actor=actor, from_state=State.ACKNOWLEDGED, note=note)
        photos_ingest(report=r, kind="result", files=photos, uploaded_by=actor, event=event)
        effects.thumbnails_on_commit(r.pk)
    return r


def report_verify(
    report: Report,
    *,
    actor: User,
    passed: bool,
    note: str = "",
    photos: list[Any] | None = None,
) -> Report:
    """核查: the grid worker checks on site. Pass → the center closes; fail → rework (返工)."""
    if not passed:
        note = _require(note, _("核查不通过时请说明问题"))
    photos = prepare_photos(photos)
    with _locked(report) as r:
        _check("verify", actor, r)
        now = timezone.now()
        r.verify_on_time = _on_time(now, r.verify_due)
        r.is_overdue = False
        if passed:
            r.state = State.VERIFIED
            _save(r, "state", "verify_on_time", "is_overdue")
            kind = EventKind.VERIFIED
        else:
            # Rework: back to the department, with a new handling period.
            r.state = State.ACKNOWLEDGED
            r.rework_count += 1
            r.handle_started = now
            r.handle_due = _due(now, handle_limit(r))
            r.handle_on_time = None
            _save(
                r,
                "state",
                "verify_on_time",
                "is_overdue",
                "rework_count",
                "handle_started",
                "handle_due",
                "handle_on_time",
            )
            kind = EventKind.REWORK
        event = _record(
            r, "verify", actor=actor, from_state=State.HANDLED, note=note, kind=kind
        )
        if photos:
            photos_ingest(report=r, kind="verify", files=photos, uploaded_by=actor, event=event)
            effects.thumbnails_on_commit(r.pk)
    return r


def report_close(report: Report, *, actor: User, note: str = "") -> Report:
    """结案: the center closes a verified case. On time when every stage was."""
    with _locked(report) as r:
        _check("close", actor, r)
        now = timezone.now()
        r.state = State.CLOSED
        r.closed_at = now
        flags = [r.accept_on_time, r.dispatch_on_time, r.handle_on_time, r.verify_on_time]
        r.closed_on_time = all(f is not False for f in flags)
        _save(r, "state", "closed_at", "closed_on_time")
        _record(r, "close", actor=actor, from_state=State.VERIFIED, note=note)
    return r


def report_urge(report: Report, *, actor: User, note: str) -> Report:
    """督办: a center or leader presses on an open case — a flag and a note, not a state."""
    note = _require(note, _("请填写督办意见"))
    with _locked(report) as r:
        _check("urge", actor, r)
        r.urge_count += 1
        _save(r, "urge_count")
        _record(r, "urge", actor=actor, from_state=r.state, note=note)
    return r


# -- extension (延期) and suspension (挂账) -----------------------------------------------

MAX_SUSPENSION = timedelta(days=365)


def report_request_extension(report: Report, *, actor: User, reason: str) -> TimeRequest:
    """The department asks for more time: each granted extension adds one original limit."""
    reason = _require(reason, _("请填写延期理由"))
    with _locked(report) as r:
        _check("request_extension", actor, r)
        request = _new_request(r, RequestKind.EXTENSION, actor, reason)
        _record(
            r, "request_extension", actor=actor, from_state=r.state, note=reason,
            data={"request": request.pk},
        )
    return request


def report_request_suspension(
    report: Report, *, actor: User, reason: str, until: datetime
) -> TimeRequest:
    """The department asks to suspend the clock (once per case, at most a year)."""
    reason = _require(reason, _("请填写挂账理由"))
    with _locked(report) as r:
        _check("request_suspension", actor, r)
        now = timezone.now()
        if not now < until <= now + MAX_SUSPENSION:
            raise WorkflowError(_("挂账截止时间须在今后一年以内"))
        request = _new_request(r, RequestKind.SUSPENSION, actor, reason, until=until)
        _record(
            r, "request_suspension", actor=actor, from_state=r.state, note=reason,
            data={"request": request.pk, "until": until.isoformat()},
        )
    return request


def _new_request(
    r: Report, kind: str, actor: User, reason: str, until: datetime | None = None
) -> TimeRequest:
    # The table's guard refused a second pending request under the row lock.
    return TimeRequest.objects.create(
        report=r, kind=kind, reason=reason, suspend_until=until, requested_by=actor
    )


def report_decide_request(
    report: Report, *, actor: User, request: TimeRequest, grant: bool, note: str = ""
) -> Report:
    """The center that dispatched grants or refuses a pending extension or suspension."""
    if not grant:
        note = _require(note, _("驳回时请填写理由"))
    with _locked(report) as r:
        _check("decide_request", actor, r)
        req = TimeRequest.objects.select_for_update().filter(pk=request.pk, report=r).first()
        if req is None or req.status != RequestStatus.PENDING:
            raise WorkflowError(_("该申请不存在或已审批"))
        now = timezone.now()
        data: dict[str, Any] = {"request": req.pk}
        if req.kind == RequestKind.EXTENSION:
            if grant:
                if r.extension_count >= sla.MAX_EXTENSIONS or r.handle_due is None:
                    raise WorkflowError(_("最多只能延期 %(n)s 次") % {"n": sla.MAX_EXTENSIONS})
                amount, unit = handle_limit(r)
                r.handle_due = sla.extend(r.handle_due, amount, unit, calendar=get_calendar())
                r.extension_count += 1
                r.is_overdue = False
                _save(r, "handle_due", "extension_count", "is_overdue")
                data["handle_due"] = r.handle_due.isoformat()
            kind = EventKind.EXTENSION_GRANTED if grant else EventKind.EXTENSION_REFUSED
        else:
            if grant:
                if r.suspension_used:
                    raise WorkflowError(_("每件案件只能挂账一次"))
                r.suspended = True
                r.suspension_used = True
                r.suspended_at = now
                r.suspended_until = req.suspend_until
                r.is_overdue = False
                _save(
                    r,
                    "suspended",
                    "suspension_used",
                    "suspended_at",
                    "suspended_until",
                    "is_overdue",
                )
            kind = EventKind.SUSPENSION_GRANTED if grant else EventKind.SUSPENSION_REFUSED
        req.status = RequestStatus.GRANTED if grant else RequestStatus.REFUSED
        req.decided_by = actor
        req.decided_at = now
        req.decision_note = note
        req.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        _record(
            r, "decide_request", actor=actor, from_state=r.state, note=note, data=data, kind=kind
        )
    return r


def report_resume(report: Report, *, actor: User | None = None) -> Report:
    """End a suspension (the periodic task calls this when its date has passed); the
    department is told its clock runs again."""
    with _locked(report) as r:
        _check("resume", actor, r)
        now = timezone.now()
        fields = _end_suspension(r, now)
        _save(r, *fields)
        _record(
            r, "resume", actor=actor, from_state=r.state,
            data={"handle_due": r.handle_due.isoformat() if r.handle_due else None},
        )
    return r


# -- system transitions ----------------------------------------------------------------


# The stage whose clock runs in each state, and the field holding its deadline.
_RUNNING: dict[str, tuple[str, str]] = {
    State.REPORTED: (Stage.ACCEPT, "accept_due"),
    State.ACCEPTED: (Stage.DISPATCH, "dispatch_due"),
    State.TRANSFERRED: (Stage.DISPATCH, "dispatch_due"),
    State.DISPATCHED: (Stage.HANDLE, "handle_due"),
    State.ACKNOWLEDGED: (Stage.HANDLE, "handle_due"),
    State.HANDLED: (Stage.VERIFY, "verify_due"),
}


def running_stage(report: Report) -> str | None:
    """The stage whose clock runs now; None when none does (closed, verified, suspended)."""
    running = _RUNNING.get(report.state)
    if running is None or (running[0] == Stage.HANDLE and report.suspended):
        return None
    return running[0]


def running_due(report: Report) -> datetime | None:
    """The deadline of the stage the case is in now (None if no clock runs)."""
    if running_stage(report) is None:
        return None
    due: datetime | None = getattr(report, _RUNNING[report.state][1])
    return due


def report_mark_overdue(report: Report, *, actor: User | None = None) -> bool:
    """Flag a case whose running stage is past due and notify the responsible center."""
    with _locked(report) as r:
        _check("mark_overdue", actor, r)
        due = running_due(r)
        now = timezone.now()
        if r.is_overdue or due is None or now <= due:
            return False
        r.is_overdue = True
        r.overdue_notified_at = now
        _save(r, "is_overdue", "overdue_notified_at")
        _record(r, "mark_overdue", actor=None, from_state=r.state, data={"due": due.isoformat()})
    return True


# -- input checks shared with filing ---------------------------------------------------


def check_category(
    category: Category, standard: FilingStandard | None
) -> tuple[Category, FilingStandard | None]:
    """A case needs an active minor category; the standard must belong to it."""
    if category.parent_id is None or not category.is_active:
        raise WorkflowError(_("请选择一个有效的小类"))
    if standard is None:
        standard = category.standards.order_by("sort", "code").first()
    elif standard.category_id != category.pk:
        raise WorkflowError(_("立案条件与所选类别不符"))
    return category, standard


def prepare_photos(files: list[Any] | None) -> list[Any]:
    """Validate and re-encode uploads before any transaction: Pillow work (up to seconds
    for nine photos) must not run while a case row or SQLite's write lock is held."""
    if not files:
        return []
    try:
        return list(photos_prepare(files))
    except ValidationError as e:
        raise WorkflowError("；".join(e.messages)) from e


def report_recategorize(
    report: Report,
    *,
    actor: User,
    category: Any,
    standard: Any = None,
    note: str = "",
) -> Report:
    """A center corrects the category (and filing standard) at triage; routing runs again.

    A wrong category must not strand a case at the wrong department, so the routing
    version moves on and the routing task is scheduled once this commits."""
    with _locked(report) as r:
        _check("recategorize", actor, r)
        category, standard = check_category(category, standard)
        old = {
            "category": r.category_id,
            "category_name": str(r.category),
            "standard": r.standard_id,
        }
        r.category = category
        r.standard = standard
        r.route_version += 1
        r.proposed_department = None
        _save(r, "category", "standard", "route_version", "proposed_department")
        _record(
            r,
            "recategorize",
            actor=actor,
            from_state=r.state,
            note=note
            or _("类别由“%(old)s”更正为“%(new)s”，重新分拨")
            % {"old": old["category_name"], "new": str(category)},
            data={
                "old": old,
                "new": {"category": category.pk, "standard": standard.pk if standard else None},
            },
        )
        effects.route_on_commit(r.pk)
    return r
