"""Routing applied to real cases: the task, its idempotence and what the timeline says."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from accounts.models import User
from grids.models import Department
from reports import dispatching, workflow
from reports.catalog import cached_rule_table
from reports.models import EventKind, Report, RoutingRule, State
from tests.conftest import City
from tests.reports.conftest import Catalog, file_report

pytestmark = pytest.mark.django_db


def _file_and_route(worker: User, city: City, category, capture) -> Report:  # type: ignore[no-untyped-def]
    with capture(execute=True):
        report = file_report(worker, city, category)
    report.refresh_from_db()
    return report


def test_it_dispatches_automatically_by_an_auto_street_rule(
    worker: User,
    city: City,
    catalog: Catalog,
    street_department: Department,
    django_capture_on_commit_callbacks,
) -> None:
    rule = RoutingRule.objects.create(
        category=catalog.cityscape,
        region=city.street,
        department=street_department,
        level="street",
        mode="auto",
    )
    report = _file_and_route(worker, city, catalog.garbage, django_capture_on_commit_callbacks)
    assert report.state == State.DISPATCHED and report.department == street_department
    routed = report.events.get(kind=EventKind.ROUTED)
    assert routed.data["rule"] == rule.pk and f"规则#{rule.pk}" in routed.note
    assert routed.actor is None


def test_it_transfers_up_and_dispatches_by_an_auto_district_rule(
    worker: User,
    city: City,
    catalog: Catalog,
    django_capture_on_commit_callbacks,
) -> None:
    RoutingRule.objects.create(
        category=catalog.roof_tree,
        region=city.district,
        department=city.department,
        level="district",
        mode="auto",
    )
    report = _file_and_route(worker, city, catalog.roof_tree, django_capture_on_commit_callbacks)
    assert report.state == State.DISPATCHED and report.dispatch_level == "district"
    assert list(report.events.values_list("kind", flat=True)) == [
        EventKind.FILED,
        EventKind.ROUTED,
        EventKind.ACCEPTED,  # 吹哨 from a new report is a 立案 too
        EventKind.TRANSFERRED,
        EventKind.DISPATCHED,
    ]


def test_it_only_proposes_by_a_propose_rule(
    worker: User,
    city: City,
    catalog: Catalog,
    street_department: Department,
    django_capture_on_commit_callbacks,
) -> None:
    RoutingRule.objects.create(
        category=catalog.garbage,
        region=city.street,
        department=street_department,
        level="street",
        mode="propose",
    )
    report = _file_and_route(worker, city, catalog.garbage, django_capture_on_commit_callbacks)
    assert report.state == State.REPORTED and report.proposed_department == street_department


def test_it_leaves_the_case_to_the_street_center_when_no_rule_matches(
    worker: User,
    city: City,
    catalog: Catalog,
    django_capture_on_commit_callbacks,
) -> None:
    report = _file_and_route(worker, city, catalog.garbage, django_capture_on_commit_callbacks)
    assert report.state == State.REPORTED and report.routed_version == 1
    assert report.events.get(kind=EventKind.ROUTE_NONE).note.startswith("无匹配规则")


def test_it_routes_each_version_once_however_often_the_task_runs(
    worker: User,
    city: City,
    catalog: Catalog,
    street_department: Department,
    django_capture_on_commit_callbacks,
) -> None:
    RoutingRule.objects.create(
        category=catalog.garbage,
        region=city.street,
        department=street_department,
        level="street",
        mode="propose",
    )
    report = _file_and_route(worker, city, catalog.garbage, django_capture_on_commit_callbacks)
    assert dispatching.report_route(report.pk) is None
    assert dispatching.report_route(report.pk) is None
    assert report.events.filter(kind=EventKind.ROUTED).count() == 1


def test_it_routes_again_when_the_center_corrects_the_category(
    worker: User,
    city: City,
    catalog: Catalog,
    street_staff: User,
    street_department: Department,
    django_capture_on_commit_callbacks,
) -> None:
    RoutingRule.objects.create(
        category=catalog.garbage,
        region=city.street,
        department=street_department,
        level="street",
        mode="propose",
    )
    report = _file_and_route(worker, city, catalog.roof_tree, django_capture_on_commit_callbacks)
    assert report.proposed_department is None
    with django_capture_on_commit_callbacks(execute=True):
        workflow.report_recategorize(report, actor=street_staff, category=catalog.garbage)
    report.refresh_from_db()
    assert report.category == catalog.garbage and report.proposed_department == street_department
    kinds = list(report.events.values_list("kind", flat=True))
    assert kinds == [
        EventKind.FILED,
        EventKind.ROUTE_NONE,
        EventKind.RECATEGORIZED,
        EventKind.ROUTED,
    ]


def test_it_refuses_recategorizing_by_a_grid_worker(
    worker: User, city: City, catalog: Catalog
) -> None:
    report = file_report(worker, city, catalog.roof_tree)
    with pytest.raises(PermissionDenied):
        workflow.report_recategorize(report, actor=worker, category=catalog.garbage)


def test_it_does_not_reroute_a_case_a_center_already_dispatched_by_hand(
    worker: User,
    city: City,
    catalog: Catalog,
    street_staff: User,
    street_department: Department,
) -> None:
    report = file_report(worker, city, catalog.garbage)  # routing not run yet (no commit)
    workflow.report_accept(report, actor=street_staff)
    workflow.report_dispatch(report, actor=street_staff, department=street_department)
    RoutingRule.objects.create(
        category=catalog.garbage,
        region=city.street,
        department=street_department,
        level="street",
        mode="auto",
    )
    dispatching.report_route(report.pk)
    report.refresh_from_db()
    assert report.events.filter(kind=EventKind.DISPATCHED).count() == 1
    assert report.events.last().kind == EventKind.ROUTE_NONE


def test_it_reuses_the_rule_table_until_a_rule_changes(
    city: City, catalog: Catalog, street_department: Department, django_assert_num_queries
) -> None:
    rule = RoutingRule.objects.create(category=catalog.garbage, region=city.street,
                                      department=street_department, level="street", mode="auto")
    first = cached_rule_table()
    with django_assert_num_queries(1):  # the signature only
        assert cached_rule_table() is first
    rule.mode = "propose"
    rule.save()
    edited = cached_rule_table()
    assert edited is not first
    rule.delete()
    assert len(cached_rule_table()) == 0
