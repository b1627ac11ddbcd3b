"""Every transition, and the people who must be refused (wrong role, street, department, state)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from accounts.models import User
from grids.models import Department
from reports import workflow
from reports.errors import WorkflowError
from reports.models import EventKind, Report, RequestStatus, State
from reports.services import report_file_self_handled
from tests.conftest import City
from tests.reports.conftest import Catalog, file_report, jpeg

pytestmark = pytest.mark.django_db


@pytest.fixture
def reported(worker: User, city: City, catalog: Catalog) -> Report:
    return file_report(worker, city, catalog.roof_tree)


def _accepted(report: Report, staff: User) -> Report:
    return workflow.report_accept(report, actor=staff)


def _dispatched(report: Report, staff: User, department: Department) -> Report:
    return workflow.report_dispatch(_accepted(report, staff), actor=staff, department=department)


def _acknowledged(report: Report, staff: User, department: Department, handler: User) -> Report:
    return workflow.report_acknowledge(_dispatched(report, staff, department), actor=handler)


def _handled(report: Report, staff: User, department: Department, handler: User) -> Report:
    r = _acknowledged(report, staff, department, handler)
    return workflow.report_handle(r, actor=handler, note="已清除", photos=[jpeg()])


def _kinds(report: Report) -> list[str]:
    return list(report.events.values_list("kind", flat=True))


# -- filing ------------------------------------------------------------------------------


def test_it_files_a_case_in_the_grid_of_the_location_with_a_readable_number(
    reported: Report, city: City
) -> None:
    assert reported.state == State.REPORTED
    assert reported.grid == city.grid and reported.street == city.street
    assert reported.district == city.district
    local_date = timezone.localdate().strftime("%Y%m%d")
    assert reported.number == f"{city.district.code}-{local_date}-0001"
    assert reported.accept_due is not None
    assert _kinds(reported)[0] == EventKind.FILED


def test_it_returns_the_first_case_when_a_retry_reuses_the_idempotency_key(
    worker: User, city: City, catalog: Catalog
) -> None:
    first = file_report(worker, city, catalog.roof_tree, idempotency_key="retry-1")
    again = file_report(worker, city, catalog.roof_tree, idempotency_key="retry-1")
    assert again.pk == first.pk
    assert Report.objects.count() == 1


def test_it_numbers_cases_of_the_same_district_and_day_in_sequence(
    worker: User, city: City, catalog: Catalog
) -> None:
    numbers = [file_report(worker, city, catalog.roof_tree).number[-4:] for _ in range(3)]
    assert numbers == ["0001", "0002", "0003"]


@pytest.mark.parametrize(
    ("persona", "refusal"),
    [
        ("neighbour_worker", PermissionDenied),
        ("other_street_staff", PermissionDenied),
        ("handler", PermissionDenied),
        ("outsider", PermissionDenied),
    ],
)
def test_it_refuses_filing_in_a_grid_that_is_not_yours(
    request: pytest.FixtureRequest,
    persona: str,
    refusal: type[Exception],
    city: City,
    catalog: Catalog,
) -> None:
    user = request.getfixturevalue(persona)
    with pytest.raises(refusal):
        file_report(user, city, catalog.roof_tree)
    assert Report.objects.count() == 0


def test_it_refuses_a_location_outside_every_grid(
    worker: User, city: City, catalog: Catalog
) -> None:
    with pytest.raises(WorkflowError, match="不在任何网格内"):
        file_report(worker, city, catalog.roof_tree, lng=100.0, lat=30.0)
    assert Report.objects.count() == 0


def test_it_refuses_a_major_category(worker: User, city: City, catalog: Catalog) -> None:
    with pytest.raises(WorkflowError, match="小类"):
        file_report(worker, city, catalog.housing)


def test_it_files_a_self_handled_case_closed_with_before_and_after_photos(
    worker: User, city: City, catalog: Catalog
) -> None:
    report = report_file_self_handled(
        reporter=worker,
        category=catalog.garbage,
        description="随手清理了垃圾",
        idempotency_key="self-1",
        lng=117.175,
        lat=39.105,
        before_photos=[jpeg("before.jpg")],
        after_photos=[jpeg("after.jpg")],
    )
    assert report.state == State.CLOSED and report.self_handled
    assert sorted(report.photos.values_list("kind", flat=True)) == ["after", "before"]
    assert _kinds(report) == [EventKind.SELF_HANDLED]


def test_it_refuses_self_handling_without_an_after_photo(
    worker: User, city: City, catalog: Catalog
) -> None:
    with pytest.raises(WorkflowError, match="处置前和处置后照片"):
        report_file_self_handled(
            reporter=worker,
            category=catalog.garbage,
            description="x",
            idempotency_key="s2",
            lng=117.175,
            lat=39.105,
            before_photos=[jpeg()],
            after_photos=[],
        )
    assert Report.objects.count() == 0


# -- triage ------------------------------------------------------------------------------


def test_it_accepts_and_freezes_the_accept_stage(reported: Report, street_staff: User) -> None:
    r = workflow.report_accept(reported, actor=street_staff)
    assert r.state == State.ACCEPTED
    assert r.accept_on_time is True and r.dispatch_due is not None
    event = r.events.last()
    assert event.kind == EventKind.ACCEPTED and event.actor == street_staff
    assert (event.from_state, event.to_state) == (State.REPORTED, State.ACCEPTED)


@pytest.mark.parametrize(
    "persona", ["worker", "other_street_staff", "district_staff", "handler", "leader", "outsider"]
)
def test_it_refuses_accepting_by_anyone_but_the_street_center(
    request: pytest.FixtureRequest, persona: str, reported: Report
) -> None:
    with pytest.raises(PermissionDenied):
        workflow.report_accept(reported, actor=request.getfixturevalue(persona))
    reported.refresh_from_db()
    assert reported.state == State.REPORTED and reported.events.count() == 1


def test_it_refuses_accepting_twice(reported: Report, street_staff: User) -> None:
    workflow.report_accept(reported, actor=street_staff)
    with pytest.raises(WorkflowError, match="不能立案"):
        workflow.report_accept(reported, actor=street_staff)


def test_it_rejects_with_a_reason_and_not_without(reported: Report, street_staff: User) -> None:
    with pytest.raises(WorkflowError, match="理由"):
        workflow.report_reject(reported, actor=street_staff, reason="  ")
    r = workflow.report_reject(reported, actor=street_staff, reason="不属于网格事项")
    assert r.state == State.REJECTED and r.events.last().note == "不属于网格事项"


def test_it_merges_a_duplicate_into_an_open_case_of_the_same_street(
    reported: Report, worker: User, city: City, catalog: Catalog, street_staff: User
) -> None:
    duplicate = file_report(worker, city, catalog.roof_tree)
    r = workflow.report_merge(duplicate, actor=street_staff, into=reported)
    assert r.state == State.MERGED and r.merged_into == reported


def test_it_refuses_merging_a_case_into_itself(reported: Report, street_staff: User) -> None:
    with pytest.raises(WorkflowError):
        workflow.report_merge(reported, actor=street_staff, into=reported)


# -- dispatch, transfer up, send down ------------------------------------------------------


def test_it_dispatches_to_a_street_department_and_starts_the_handling_clock(
    reported: Report, street_staff: User, street_department: Department
) -> None:
    r = _dispatched(reported, street_staff, street_department)
    assert r.state == State.DISPATCHED and r.department == street_department
    assert r.dispatch_level == "street" and r.dispatch_on_time is True
    assert r.handle_due is not None and r.handle_due > r.handle_started


def test_it_refuses_a_street_dispatch_to_a_district_department(
    reported: Report, street_staff: User, city: City
) -> None:
    _accepted(reported, street_staff)
    with pytest.raises(WorkflowError, match="不是本街道可派遣的处置部门"):
        workflow.report_dispatch(reported, actor=street_staff, department=city.department)


def test_it_refuses_another_streets_staff_to_dispatch(
    reported: Report,
    street_staff: User,
    other_street_staff: User,
    street_department: Department,
) -> None:
    _accepted(reported, street_staff)
    with pytest.raises(PermissionDenied):
        workflow.report_dispatch(reported, actor=other_street_staff, department=street_department)


def test_it_transfers_up_and_the_district_dispatches_to_a_district_department(
    reported: Report, street_staff: User, district_staff: User, city: City
) -> None:
    r = workflow.report_transfer_up(reported, actor=street_staff, note="需区城管委处置")
    assert r.state == State.TRANSFERRED
    with pytest.raises(PermissionDenied):
        workflow.report_dispatch(r, actor=street_staff, department=city.department)
    r = workflow.report_dispatch(r, actor=district_staff, department=city.department)
    assert r.state == State.DISPATCHED and r.dispatch_level == "district"


def test_it_records_the_acceptance_when_the_street_blows_the_whistle_on_a_new_report(
    reported: Report, street_staff: User
) -> None:
    # 吹哨 straight from 待立案 is a 立案 too: the timeline and the frozen accept flag agree.
    r = workflow.report_transfer_up(reported, actor=street_staff, note="需区城管委处置")

    steps = list(r.events.order_by("pk").values_list("kind", "from_state", "to_state"))
    assert steps == [
        (EventKind.FILED, "", State.REPORTED),
        (EventKind.ACCEPTED, State.REPORTED, State.ACCEPTED),
        (EventKind.TRANSFERRED, State.ACCEPTED, State.TRANSFERRED),
    ]
    r.refresh_from_db()
    assert r.accept_on_time is True and r.dispatch_due is not None


def test_it_records_one_acceptance_when_an_accepted_case_is_transferred(
    reported: Report, street_staff: User
) -> None:
    r = workflow.report_accept(reported, actor=street_staff)
    r = workflow.report_transfer_up(r, actor=street_staff)

    kinds = list(r.events.order_by("pk").values_list("kind", flat=True))
    assert kinds == [EventKind.FILED, EventKind.ACCEPTED, EventKind.TRANSFERRED]


def test_it_sends_a_transferred_case_back_down_to_the_street(
    reported: Report, street_staff: User, district_staff: User
) -> None:
    workflow.report_transfer_up(reported, actor=street_staff)
    r = workflow.report_send_down(reported, actor=district_staff, reason="街道可自行处置")
    assert r.state == State.ACCEPTED
    with pytest.raises(PermissionDenied):
        workflow.report_send_down(r, actor=street_staff, reason="x")


# -- department --------------------------------------------------------------------------


def test_it_lets_only_the_dispatched_departments_handler_acknowledge(
    reported: Report,
    street_staff: User,
    street_department: Department,
    street_handler: User,
    handler: User,
) -> None:
    r = _dispatched(reported, street_staff, street_department)
    with pytest.raises(PermissionDenied):
        workflow.report_acknowledge(r, actor=handler)  # a handler of another department
    r = workflow.report_acknowledge(r, actor=street_handler)
    assert r.state == State.ACKNOWLEDGED


def test_it_refuses_handling_before_acknowledging(
    reported: Report, street_staff: User, street_department: Department, street_handler: User
) -> None:
    r = _dispatched(reported, street_staff, street_department)
    with pytest.raises(WorkflowError, match="不能处置完毕"):
        workflow.report_handle(r, actor=street_handler, note="done", photos=[jpeg()])


def test_it_requires_a_result_photo_to_report_done(
    reported: Report, street_staff: User, street_department: Department, street_handler: User
) -> None:
    r = _acknowledged(reported, street_staff, street_department, street_handler)
    with pytest.raises(WorkflowError, match="照片"):
        workflow.report_handle(r, actor=street_handler, note="done", photos=[])


def test_it_returns_a_case_to_the_center_that_dispatched_it_and_counts_no_resolution(
    reported: Report, street_staff: User, street_department: Department, street_handler: User
) -> None:
    r = _acknowledged(reported, street_staff, street_department, street_handler)
    with pytest.raises(WorkflowError, match="回退理由"):
        workflow.report_return(r, actor=street_handler, reason="")
    r = workflow.report_return(r, actor=street_handler, reason="不属于本部门职责")
    assert r.state == State.ACCEPTED and r.department is None
    assert r.return_count == 1 and r.handle_on_time is None and r.closed_at is None


def test_it_returns_a_district_dispatch_to_the_district_center(
    reported: Report, street_staff: User, district_staff: User, city: City, handler: User
) -> None:
    workflow.report_transfer_up(reported, actor=street_staff)
    r = workflow.report_dispatch(reported, actor=district_staff, department=city.department)
    r = workflow.report_return(r, actor=handler, reason="非本部门")
    assert r.state == State.TRANSFERRED


# -- verification and closing ---------------------------------------------------------------


def test_it_verifies_and_closes(
    reported: Report,
    street_staff: User,
    street_department: Department,
    street_handler: User,
    worker: User,
) -> None:
    r = _handled(reported, street_staff, street_department, street_handler)
    assert r.state == State.HANDLED and r.handle_on_time is True
    r = workflow.report_verify(r, actor=worker, passed=True, note="已核实")
    assert r.state == State.VERIFIED
    r = workflow.report_close(r, actor=street_staff)
    assert r.state == State.CLOSED and r.closed_on_time is True
    assert _kinds(r)[-3:] == [EventKind.HANDLED, EventKind.VERIFIED, EventKind.CLOSED]


@pytest.mark.parametrize("persona", ["neighbour_worker", "street_handler", "street_staff"])
def test_it_refuses_verification_by_anyone_but_the_grids_worker(
    request: pytest.FixtureRequest,
    persona: str,
    reported: Report,
    street_staff: User,
    street_department: Department,
    street_handler: User,
) -> None:
    r = _handled(reported, street_staff, street_department, street_handler)
    with pytest.raises(PermissionDenied):
        workflow.report_verify(r, actor=request.getfixturevalue(persona), passed=True)


def test_it_sends_a_failed_check_back_for_rework_and_counts_it(
    reported: Report,
    street_staff: User,
    street_department: Department,
    street_handler: User,
    worker: User,
) -> None:
    r = _handled(reported, street_staff, street_department, street_handler)
    with pytest.raises(WorkflowError, match="说明问题"):
        workflow.report_verify(r, actor=worker, passed=False, note="")
    r = workflow.report_verify(r, actor=worker, passed=False, note="树根还在")
    assert r.state == State.ACKNOWLEDGED and r.rework_count == 1 and r.handle_on_time is None


def test_it_refuses_closing_before_verification(
    reported: Report, street_staff: User, street_department: Department, street_handler: User
) -> None:
    r = _handled(reported, street_staff, street_department, street_handler)
    with pytest.raises(WorkflowError, match="不能结案"):
        workflow.report_close(r, actor=street_staff)


# -- extension, suspension, urge ------------------------------------------------------------


def test_it_grants_two_extensions_each_adding_one_original_limit_and_refuses_a_third(
    reported: Report, street_staff: User, street_department: Department, street_handler: User
) -> None:
    r = _acknowledged(reported, street_staff, street_department, street_handler)
    dues = [r.handle_due]
    for _ in range(2):
        req = workflow.report_request_extension(r, actor=street_handler, reason="需协调产权单位")
        r = workflow.report_decide_request(r, actor=street_staff, request=req, grant=True)
        dues.append(r.handle_due)
    assert r.extension_count == 2
    assert dues[0] < dues[1] < dues[2]
    with pytest.raises(WorkflowError, match="不能再申请延期"):
        workflow.report_request_extension(r, actor=street_handler, reason="还要时间")


def test_it_lets_only_the_dispatching_center_decide_a_request(
    reported: Report,
    street_staff: User,
    other_street_staff: User,
    district_staff: User,
    street_department: Department,
    street_handler: User,
) -> None:
    r = _acknowledged(reported, street_staff, street_department, street_handler)
    req = workflow.report_request_extension(r, actor=street_handler, reason="x")
    for outsider in (other_street_staff, district_staff, street_handler):
        with pytest.raises(PermissionDenied):
            workflow.report_decide_request(r, actor=outsider, request=req, grant=True)
    r = workflow.report_decide_request(
        r, actor=street_staff, request=req, grant=False, note="理由不充分"
    )
    req.refresh_from_db()
    assert req.status == RequestStatus.REFUSED and r.extension_count == 0


def test_it_suspends_once_and_the_clock_pauses(
    reported: Report, street_staff: User, street_department: Department, street_handler: User
) -> None:
    r = _acknowledged(reported, street_staff, street_department, street_handler)
    until = timezone.now() + timedelta(days=30)
    req = workflow.report_request_suspension(r, actor=street_handler, reason="待拆迁", until=until)
    r = workflow.report_decide_request(r, actor=street_staff, request=req, grant=True)
    assert r.suspended and r.suspension_used and workflow.running_due(r) is None
    with pytest.raises(WorkflowError, match="只能挂账一次"):
        workflow.report_request_suspension(r, actor=street_handler, reason="再挂", until=until)


def test_it_refuses_a_suspension_longer_than_a_year(
    reported: Report, street_staff: User, street_department: Department, street_handler: User
) -> None:
    r = _acknowledged(reported, street_staff, street_department, street_handler)
    with pytest.raises(WorkflowError, match="一年以内"):
        workflow.report_request_suspension(
            r, actor=street_handler, reason="x", until=timezone.now() + timedelta(days=400)
        )


@pytest.mark.parametrize("persona", ["street_staff", "district_staff", "leader"])
def test_it_records_an_urge_without_changing_the_state(
    request: pytest.FixtureRequest, persona: str, reported: Report
) -> None:
    r = workflow.report_urge(reported, actor=request.getfixturevalue(persona), note="请尽快处理")
    assert r.state == State.REPORTED and r.urge_count == 1
    assert r.events.last().kind == EventKind.URGED


@pytest.mark.parametrize("persona", ["worker", "other_street_staff", "handler", "outsider"])
def test_it_refuses_urging_by_others(
    request: pytest.FixtureRequest, persona: str, reported: Report
) -> None:
    with pytest.raises(PermissionDenied):
        workflow.report_urge(reported, actor=request.getfixturevalue(persona), note="快")


# -- what the buttons show ------------------------------------------------------------------


def test_it_lists_the_actions_each_person_may_take(
    reported: Report, street_staff: User, worker: User, other_street_staff: User
) -> None:
    assert {"accept", "reject", "merge", "transfer_up", "urge", "recategorize"} <= (
        workflow.allowed_actions(street_staff, reported)
    )
    assert workflow.allowed_actions(worker, reported) == frozenset()
    assert workflow.allowed_actions(other_street_staff, reported) == frozenset()


# -- the wrong person, for every transition ---------------------------------------------------

_STAGES = {
    "reported": lambda r, s, d, h, w: r,
    "accepted": lambda r, s, d, h, w: _accepted(r, s),
    "dispatched": lambda r, s, d, h, w: _dispatched(r, s, d),
    "acknowledged": lambda r, s, d, h, w: _acknowledged(r, s, d, h),
    "handled": lambda r, s, d, h, w: _handled(r, s, d, h),
    "verified": lambda r, s, d, h, w: workflow.report_verify(
        _handled(r, s, d, h), actor=w, passed=True
    ),
}

_ACTIONS = {
    "reject": ("reported", lambda r, u: workflow.report_reject(r, actor=u, reason="x")),
    "merge": ("accepted", lambda r, u: workflow.report_merge(r, actor=u, into=r)),
    "transfer_up": ("accepted", lambda r, u: workflow.report_transfer_up(r, actor=u)),
    "return": ("acknowledged", lambda r, u: workflow.report_return(r, actor=u, reason="x")),
    "handle": (
        "acknowledged",
        lambda r, u: workflow.report_handle(r, actor=u, note="x", photos=[jpeg()]),
    ),
    "request_extension": (
        "acknowledged",
        lambda r, u: workflow.report_request_extension(r, actor=u, reason="x"),
    ),
    "close": ("verified", lambda r, u: workflow.report_close(r, actor=u)),
    "recategorize": (
        "reported",
        lambda r, u: workflow.report_recategorize(r, actor=u, category=r.category),
    ),
}


@pytest.mark.parametrize("action", sorted(_ACTIONS))
@pytest.mark.parametrize("persona", ["worker", "other_street_staff", "handler", "outsider"])
def test_it_refuses_every_transition_to_the_wrong_person_and_writes_nothing(
    request: pytest.FixtureRequest, action: str, persona: str, reported: Report,
    street_staff: User, street_department: Department, street_handler: User, worker: User,
) -> None:
    stage, act = _ACTIONS[action]
    report = _STAGES[stage](reported, street_staff, street_department, street_handler, worker)
    before = (report.state, report.events.count())
    with pytest.raises(PermissionDenied):
        act(Report.objects.get(pk=report.pk), request.getfixturevalue(persona))
    report.refresh_from_db()
    assert (report.state, report.events.count()) == before
