"""A notice on every hand-off: the right people are told, the wrong ones are not,
nothing is sent when the transaction rolls back, and notices are read per user."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from grids.models import Department, Role
from reports import dispatching, services, tasks, workflow
from reports.models import (
    Category,
    DispatchLevel,
    Notification,
    Report,
    RequestKind,
    RequestStatus,
    State,
    TimeRequest,
)
from reports.selectors import notifications_for, unread_count
from tests.conftest import City
from tests.factories import UserFactory, assign
from tests.reports.conftest import Catalog, file_report, jpeg

pytestmark = pytest.mark.django_db


class People(dict[str, User]):
    pass


@pytest.fixture
def people(
    worker: User,
    neighbour_worker: User,
    street_staff: User,
    other_street_staff: User,
    district_staff: User,
    handler: User,
    street_handler: User,
    leader: User,
) -> People:
    grid_head = UserFactory(username="gridhead", full_name="网格长")
    assign(grid_head, Role.GRID_HEAD, region=worker.assignments.get().region.parent)
    other_handler = UserFactory(username="otherdept", full_name="和平区处置员")
    assign(other_handler, Role.HANDLER, department=Department.objects.get(name="和平区城管委"))
    return People(
        worker=worker,
        neighbour_worker=neighbour_worker,
        grid_head=grid_head,
        street_staff=street_staff,
        other_street_staff=other_street_staff,
        district_staff=district_staff,
        handler=handler,
        street_handler=street_handler,
        other_handler=other_handler,
        leader=leader,
    )


def _case(
    people: People, city: City, catalog: Catalog, street_department: Department, setup: str
) -> Report:
    """A case filed by the worker, put in the state the hand-off starts from."""
    report = file_report(people["worker"], city, catalog.roof_tree)
    now = timezone.now()
    at = {"handle_started": now, "handle_due": now + timedelta(days=5)}
    street = {"department": street_department, "dispatch_level": DispatchLevel.STREET}
    district = {"department": city.department, "dispatch_level": DispatchLevel.DISTRICT}
    fields: dict[str, dict[str, Any]] = {
        "reported": {},
        "accepted": {"state": State.ACCEPTED},
        "transferred": {"state": State.TRANSFERRED},
        "dispatched/street": {"state": State.DISPATCHED, **street, **at},
        "acknowledged/street": {"state": State.ACKNOWLEDGED, **street, **at},
        "acknowledged/street/suspended": {
            "state": State.ACKNOWLEDGED, **street, **at, "suspended": True,
            "suspension_used": True, "suspended_at": now - timedelta(days=1),
            "suspended_until": now,
        },
        "acknowledged/district": {"state": State.ACKNOWLEDGED, **district, **at},
        "handled/street": {"state": State.HANDLED, **street},
        "verified/street": {"state": State.VERIFIED, **street},
    }
    Report.objects.filter(pk=report.pk).update(**fields[setup])
    Notification.objects.all().delete()
    return Report.objects.get(pk=report.pk)


def _decide(people: People, street_department: Department) -> Callable[[Report], Any]:
    def act(r: Report) -> Any:
        request = TimeRequest.objects.create(
            report=r, kind=RequestKind.EXTENSION, reason="材料未到",
            requested_by=people["street_handler"], status=RequestStatus.PENDING,
        )
        return workflow.report_decide_request(
            r, actor=people["street_staff"], request=request, grant=True
        )
    return act


def _twin(r: Report) -> Report:
    """Another open case of the same street, filed by the street center (to merge into)."""
    staff = User.objects.get(username="wanxing")
    return services.report_file(
        reporter=staff, category=r.category, description="同一棵树", grid=r.grid,
        idempotency_key=uuid.uuid4().hex,
    )


# kind, starting state, the hand-off (given the people), told, not told
HAND_OFFS: list[tuple[str, str, Callable[[People, Department], Callable[[Report], Any]],
                      set[str], set[str]]] = [
    (
        "dispatched", "accepted",
        lambda p, d: lambda r: workflow.report_dispatch(r, actor=p["street_staff"], department=d),
        {"street_handler"}, {"handler", "other_handler", "street_staff"},
    ),
    (
        "returned", "acknowledged/street",
        lambda p, d: lambda r: workflow.report_return(
            r, actor=p["street_handler"], reason="非本部门"
        ),
        {"street_staff"}, {"other_street_staff", "district_staff", "street_handler"},
    ),
    (
        "transferred", "accepted",
        lambda p, d: lambda r: workflow.report_transfer_up(r, actor=p["street_staff"]),
        {"district_staff"}, {"street_staff", "other_street_staff"},
    ),
    (
        "sent_down", "transferred",
        lambda p, d: lambda r: workflow.report_send_down(
            r, actor=p["district_staff"], reason="街道可办"
        ),
        {"street_staff"}, {"other_street_staff", "district_staff"},
    ),
    (
        "extension_requested", "acknowledged/district",
        lambda p, d: lambda r: workflow.report_request_extension(
            r, actor=p["handler"], reason="材料未到"
        ),
        {"district_staff"}, {"street_staff", "handler"},
    ),
    (
        "suspension_requested", "acknowledged/street",
        lambda p, d: lambda r: workflow.report_request_suspension(
            r, actor=p["street_handler"], reason="等待拆迁",
            until=timezone.now() + timedelta(days=7),
        ),
        {"street_staff"}, {"other_street_staff", "district_staff"},
    ),
    ("request_decided", "acknowledged/street", _decide, {"street_handler"},
     {"handler", "other_handler", "street_staff"}),
    (
        "handled", "acknowledged/street",
        lambda p, d: lambda r: workflow.report_handle(
            r, actor=p["street_handler"], note="已清理", photos=[jpeg()]
        ),
        {"worker", "grid_head"}, {"neighbour_worker", "street_handler", "street_staff"},
    ),
    (
        "rework", "handled/street",
        lambda p, d: lambda r: workflow.report_verify(
            r, actor=p["worker"], passed=False, note="树根还在"
        ),
        {"street_handler"}, {"handler", "other_handler", "worker"},
    ),
    (
        "urged", "acknowledged/street",
        lambda p, d: lambda r: workflow.report_urge(r, actor=p["leader"], note="请尽快办理"),
        {"street_handler"}, {"handler", "other_handler", "leader"},
    ),
    (
        "verified", "handled/street",
        lambda p, d: lambda r: workflow.report_verify(r, actor=p["worker"], passed=True),
        {"street_staff"}, {"other_street_staff", "district_staff", "worker", "street_handler"},
    ),
    (
        # No routing rule matches: the case waits in the street center's queue.
        "in_queue", "reported",
        lambda p, d: lambda r: dispatching.report_route(r.pk),
        {"street_staff"}, {"other_street_staff", "district_staff", "worker"},
    ),
    # The hand-offs that told no one before (issue 15): whoever filed, or must act, is told.
    (
        "rejected", "reported",
        lambda p, d: lambda r: workflow.report_reject(r, actor=p["street_staff"], reason="重复"),
        {"worker"}, {"neighbour_worker", "grid_head", "street_staff", "district_staff"},
    ),
    (
        "merged", "reported",
        lambda p, d: lambda r: workflow.report_merge(r, actor=p["street_staff"], into=_twin(r)),
        {"worker"}, {"neighbour_worker", "grid_head", "street_staff"},
    ),
    (
        "recategorized", "accepted",
        lambda p, d: lambda r: workflow.report_recategorize(
            r, actor=p["street_staff"], category=Category.objects.get(code="0101")
        ),
        {"worker"}, {"neighbour_worker", "street_staff", "district_staff"},
    ),
    (
        "acknowledged", "dispatched/street",
        lambda p, d: lambda r: workflow.report_acknowledge(r, actor=p["street_handler"]),
        {"worker"}, {"street_handler", "street_staff", "neighbour_worker"},
    ),
    (
        "resumed", "acknowledged/street/suspended",
        lambda p, d: lambda r: workflow.report_resume(r, actor=None),
        {"street_handler"}, {"handler", "other_handler", "street_staff", "worker"},
    ),
    (
        "closed", "verified/street",
        lambda p, d: lambda r: workflow.report_close(r, actor=p["street_staff"]),
        {"worker"}, {"neighbour_worker", "grid_head", "street_handler"},
    ),
]


@pytest.mark.parametrize(
    ("kind", "setup", "hand_off", "told", "not_told"),
    HAND_OFFS,
    ids=[h[0] for h in HAND_OFFS],
)
def test_it_tells_whoever_must_act_next_and_no_one_else(
    people: People,
    city: City,
    catalog: Catalog,
    street_department: Department,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
    kind: str,
    setup: str,
    hand_off: Callable[[People, Department], Callable[[Report], Any]],
    told: set[str],
    not_told: set[str],
) -> None:
    report = _case(people, city, catalog, street_department, setup)
    with django_capture_on_commit_callbacks(execute=True):
        hand_off(people, street_department)(report)
    notices = Notification.objects.filter(report=report, kind=kind)
    names = {name for name, user in people.items() if user.pk in {n.recipient_id for n in notices}}
    assert names == told
    assert not names & not_told
    assert all(n.read_at is None and report.number in n.message for n in notices)


def test_it_tells_the_street_center_and_the_districts_leader_when_a_case_runs_overdue(
    people: People,
    city: City,
    catalog: Catalog,
    street_department: Department,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    report = _case(people, city, catalog, street_department, "reported")
    later = timezone.now() + timedelta(days=10)
    monkeypatch.setattr(timezone, "now", lambda: later)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.sweep_overdue()
    recipients = set(
        Notification.objects.filter(report=report, kind="overdue").values_list(
            "recipient__username", flat=True
        )
    )
    assert recipients == {"wanxing", "leader"}


def test_it_sends_nothing_when_the_transaction_rolls_back(
    people: People,
    city: City,
    catalog: Catalog,
    street_department: Department,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    report = _case(people, city, catalog, street_department, "accepted")
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            workflow.report_dispatch(
                report, actor=people["street_staff"], department=street_department
            )
            raise RuntimeError("a later step failed")
    assert not Notification.objects.filter(report=report).exists()
    assert Report.objects.get(pk=report.pk).state == State.ACCEPTED


def test_it_decides_recipients_from_the_case_alone(
    people: People, city: City, catalog: Catalog, street_department: Department
) -> None:
    report = _case(people, city, catalog, street_department, "acknowledged/district")
    asked = workflow.TRANSITIONS["request_extension"].notices[0].recipients(report)
    rework = workflow.TRANSITIONS["verify"].notices[1]
    assert rework.kind == "rework"
    assert [u.username for u in asked] == ["nankai"]
    assert [u.username for u in rework.recipients(report)] == ["chengguan"]


def test_it_keeps_read_and_unread_per_user(
    people: People,
    city: City,
    catalog: Catalog,
    street_department: Department,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    first = _case(people, city, catalog, street_department, "handled/street")
    second = file_report(people["worker"], city, catalog.roof_tree)
    Report.objects.filter(pk=second.pk).update(
        state=State.HANDLED, department=street_department, dispatch_level=DispatchLevel.STREET
    )
    for report in (first, Report.objects.get(pk=second.pk)):
        with django_capture_on_commit_callbacks(execute=True):
            workflow.report_verify(report, actor=people["worker"], passed=False, note="未清理")
    handler, other = people["street_handler"], people["other_handler"]
    assert unread_count(handler) == 2 and notifications_for(handler).count() == 2
    assert unread_count(other) == 0

    # Someone else cannot mark the handler's notices read.
    mine = list(notifications_for(handler).values_list("pk", flat=True))
    assert services.notification_mark_read(user=other, ids=mine) == 0
    assert unread_count(handler) == 2

    assert services.notification_mark_read(user=handler, report=first) == 1
    assert unread_count(handler) == 1
    assert services.notification_mark_read(user=handler, ids=mine) == 1
    assert unread_count(handler) == 0 and notifications_for(handler).count() == 2


def test_every_hand_off_declares_its_notice_in_the_transition_table() -> None:
    # 立案 alone tells no one: the center that accepts is the one that dispatches next
    # (routing tells it through ``in_queue`` when a case waits for people).
    silent = {name for name, t in workflow.TRANSITIONS.items() if not t.notices}
    assert silent == {"accept"}
    kinds = [n.kind for t in workflow.TRANSITIONS.values() for n in t.notices]
    assert len(kinds) == len(set(kinds))  # one transition per kind: the kind says what happened
    assert {"rejected", "merged", "acknowledged", "resumed", "recategorized"} <= set(kinds)
