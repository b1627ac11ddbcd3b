"""generate_cases: a seeded case history whose rows look like the workflow wrote them."""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from datetime import timedelta
from itertools import pairwise

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection
from django.utils import timezone

from accounts.models import User
from grids.models import Level, Region, Role
from reports.models import (
    OPEN_STATES,
    CaseSequence,
    EventKind,
    Report,
    ReportEvent,
    ReportPhoto,
    State,
    TimeRequest,
)
from reports.selectors import reports_listed_for, reports_visible_to
from tests.factories import UserFactory

SMALL_TREE = ["--districts", "2", "--streets", "2", "--communities", "2", "--grids", "3"]


def generate(*extra: str, count: int = 300, seed: int = 7) -> str:
    out = io.StringIO()
    call_command(
        "generate_cases", "--count", str(count), "--days", "20", "--seed", str(seed),
        *SMALL_TREE, *extra, stdout=out,
    )
    return out.getvalue()


def snapshot() -> list[tuple[str, str, str]]:
    return list(Report.objects.order_by("number").values_list("number", "state", "source"))


@pytest.fixture
def generated(db: None) -> str:
    return generate()


def test_it_builds_a_nested_tree_with_people(generated: str) -> None:
    counts = Counter(Region.objects.values_list("level", flat=True))
    street = Region.objects.filter(level=Level.STREET).first()
    assert street is not None

    assert counts == {0: 1, 1: 2, 2: 4, 3: 8, 4: 24}
    assert [g.level for g in street.get_descendants()].count(Level.GRID) == 6
    assert User.objects.filter(assignments__role=Role.GRID_WORKER).count() == 24


def test_it_prints_the_rate_and_fills_every_state(generated: str) -> None:
    states = Counter(Report.objects.values_list("state", flat=True))

    assert "cases_per_s:" in generated
    assert Report.objects.count() == 300
    assert set(states) == set(State.values)
    assert Report.objects.filter(self_handled=True).exists()
    assert Report.objects.filter(extension_count__gt=0).exists()
    assert Report.objects.filter(rework_count__gt=0).exists()
    assert Report.objects.filter(return_count__gt=0).exists()
    assert Report.objects.filter(suspension_used=True).exists()
    assert Report.objects.filter(closed_on_time=False).exists()
    assert Report.objects.filter(closed_on_time=True).exists()
    assert Report.objects.filter(is_overdue=True).exists()
    assert ReportPhoto.objects.filter(kind="result").exists()
    assert TimeRequest.objects.exists()


def test_every_case_has_a_consistent_timeline(generated: str) -> None:
    timelines: dict[int, list[ReportEvent]] = defaultdict(list)
    for event in ReportEvent.objects.order_by("report_id", "at", "pk"):
        timelines[event.report_id].append(event)

    for report in Report.objects.all():
        events = timelines[report.pk]
        assert events[0].kind in (EventKind.FILED, EventKind.SELF_HANDLED)
        assert events[0].at == report.created_at
        assert events[-1].to_state == report.state, report.number
        assert all(a.at < b.at for a, b in pairwise(events))
        assert all(a.to_state == b.from_state for a, b in pairwise(events))
        assert report.updated_at == events[-1].at


def test_the_fields_match_what_the_workflow_would_set(generated: str) -> None:
    closed = Report.objects.filter(state=State.CLOSED, self_handled=False)
    dispatched = Report.objects.exclude(department=None)

    assert not Report.objects.filter(state__in=OPEN_STATES).exclude(closed_at=None).exists()
    assert not Report.objects.exclude(state__in=OPEN_STATES).filter(closed_at=None).exists()
    assert not closed.filter(handle_on_time=None).exists()
    assert not closed.filter(accept_on_time=None).exists()
    assert not dispatched.filter(handle_due=None).exists()
    assert not dispatched.filter(dispatch_level="").exists()
    assert not Report.objects.filter(state=State.MERGED, merged_into=None).exists()
    assert TimeRequest.objects.count() == ReportEvent.objects.filter(
        kind__in=[EventKind.EXTENSION_REQUESTED, EventKind.SUSPENSION_REQUESTED]
    ).count()
    assert TimeRequest.objects.exclude(status="pending").count() == ReportEvent.objects.filter(
        kind__in=[EventKind.EXTENSION_GRANTED, EventKind.EXTENSION_REFUSED,
                  EventKind.SUSPENSION_GRANTED, EventKind.SUSPENSION_REFUSED]
    ).count()
    for report in closed.exclude(closed_on_time=True):
        flags = [report.accept_on_time, report.dispatch_on_time, report.handle_on_time,
                 report.verify_on_time]
        assert False in flags


def test_numbers_are_unique_per_district_and_day_and_the_sequence_moves_on(
    generated: str,
) -> None:
    numbers = list(Report.objects.values_list("number", flat=True))
    last = dict(CaseSequence.objects.values_list("prefix", "last"))

    assert len(numbers) == len(set(numbers))
    for number in numbers:
        prefix, seq = number.rsplit("-", 1)
        assert int(seq) <= last[prefix]


def test_the_same_seed_gives_the_same_cases(db: None) -> None:
    generate()
    first = snapshot()
    Report.objects.update(merged_into=None)
    Report.objects.all().delete()
    CaseSequence.objects.all().delete()

    generate()

    assert snapshot() == first
    assert Report.objects.count() == 300


def test_another_seed_gives_other_cases(db: None) -> None:
    generate()
    first = snapshot()
    Report.objects.update(merged_into=None)
    Report.objects.all().delete()
    CaseSequence.objects.all().delete()

    generate(seed=8)

    assert snapshot() != first


def test_a_second_run_adds_cases_with_new_numbers(generated: str) -> None:
    generate(seed=9, count=100)

    numbers = list(Report.objects.values_list("number", flat=True))
    assert len(numbers) == 400
    assert len(set(numbers)) == 400


def test_older_history_added_behind_a_year_adds_no_open_work(generated: str) -> None:
    open_before = Report.objects.filter(state__in=OPEN_STATES).count()
    newest_before = Report.objects.latest("created_at").created_at

    generate("--days", "900", "--before-days", "400", seed=9, count=600)

    older = Report.objects.filter(created_at__lt=newest_before - timedelta(days=380))
    assert older.count() == 600
    assert older.filter(created_at__gt=timezone.now() - timedelta(days=400)).count() == 0
    # Histories older than a year are settled; the open workload is the recent one.
    assert not older.filter(state__in=OPEN_STATES).exists()
    assert Report.objects.filter(state__in=OPEN_STATES).count() == open_before > 0
    assert set(older.values_list("state", flat=True)) == {
        State.CLOSED, State.REJECTED, State.MERGED}


def test_a_year_old_history_still_has_a_few_stuck_cases(db: None) -> None:
    generate("--days", "300", "--before-days", "40", count=1500)

    stuck = Report.objects.filter(state__in=OPEN_STATES).count()

    # About 2 % of cases between 30 days and a year old are stuck open, none younger exist.
    assert 10 <= stuck <= 60


def test_before_days_must_not_be_negative(db: None) -> None:
    with pytest.raises(CommandError, match="不能为负数"):
        generate("--before-days", "-1")
    assert not Report.objects.exists()


def test_it_refuses_a_database_with_real_users(db: None) -> None:
    UserFactory(username="zhangxin")

    with pytest.raises(CommandError, match=r"非生成的用户.*--force"):
        generate()

    assert not Report.objects.exists()
    assert not Region.objects.exists()


def test_it_refuses_a_database_with_real_cases(generated: str) -> None:
    Report.objects.filter(pk=Report.objects.first().pk).update(idempotency_key="real-1")

    with pytest.raises(CommandError, match="非生成的案件"):
        generate(seed=9)

    assert Report.objects.count() == 300


def test_force_writes_next_to_real_data(db: None) -> None:
    UserFactory(username="zhangxin")

    generate("--force", count=50)

    assert Report.objects.count() == 50


def test_street_staff_see_exactly_their_streets_cases(generated: str) -> None:
    staff = User.objects.filter(assignments__role=Role.STREET_STAFF).order_by("pk").first()
    assert staff is not None
    street = staff.assignments.get().region

    visible = reports_visible_to(staff)

    assert visible.count() == Report.objects.filter(street=street).count() > 0
    assert not visible.exclude(street=street).exists()


def test_the_list_selector_shows_the_same_cases_as_the_scope(generated: str) -> None:
    staff = User.objects.filter(assignments__role=Role.STREET_STAFF).order_by("pk").first()
    worker = User.objects.filter(assignments__role=Role.GRID_WORKER).order_by("pk").first()
    other = Report.objects.exclude(street=staff.assignments.get().region).first()
    Report.objects.filter(pk=other.pk).update(reporter=staff)  # filed before a move

    for user in (staff, worker):
        listed = set(reports_listed_for(user).values_list("pk", flat=True))
        assert listed == set(reports_visible_to(user).values_list("pk", flat=True))
    assert other.pk in set(reports_listed_for(staff).values_list("pk", flat=True))


def test_cases_can_be_put_into_one_street(generated: str) -> None:
    street = Region.objects.filter(level=Level.STREET).order_by("code").last()
    before = Report.objects.filter(street=street).count()

    generate("--in-street", street.code, count=120, seed=8)

    added = Report.objects.order_by("-pk")[:120]
    assert {r.street_id for r in added} == {street.pk}
    assert {r.grid.parent.parent_id for r in added} == {street.pk}
    assert Report.objects.filter(street=street).count() == before + 120
    assert ReportEvent.objects.filter(report__in=list(added)).count() >= 120


def test_an_unknown_street_is_refused(generated: str) -> None:
    with pytest.raises(CommandError, match="没有代码为 NOPE 的街道"):
        generate("--in-street", "NOPE")


# -- the server-side path (PostgreSQL expands drawn case shapes with INSERT ... SELECT) --------

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the set-based generator runs on PostgreSQL only"
)


@postgres_only
def test_on_postgresql_2000_cases_keep_every_invariant(db: None) -> None:
    out = generate(count=2000, seed=11)
    timelines: dict[int, list[ReportEvent]] = defaultdict(list)
    for event in ReportEvent.objects.order_by("report_id", "at", "pk"):
        timelines[event.report_id].append(event)
    numbers = list(Report.objects.values_list("number", flat=True))
    last = dict(CaseSequence.objects.values_list("prefix", "last"))
    photo_events = set(ReportPhoto.objects.values_list("event_id", "report_id"))

    assert "cases_per_s:" in out
    assert set(Report.objects.values_list("state", flat=True)) == set(State.values)
    assert len(numbers) == len(set(numbers)) == 2000
    assert all(int(n.rsplit("-", 1)[1]) <= last[n.rsplit("-", 1)[0]] for n in numbers)
    for report in Report.objects.all():
        events = timelines[report.pk]
        assert events[0].kind in (EventKind.FILED, EventKind.SELF_HANDLED)
        assert events[0].at == report.created_at
        assert events[-1].to_state == report.state, report.number
        assert report.updated_at == events[-1].at
        assert all(a.at < b.at for a, b in pairwise(events))
        assert all(a.to_state == b.from_state for a, b in pairwise(events))
    event_reports = dict(ReportEvent.objects.values_list("pk", "report_id"))
    assert all(event_reports[e] == r for e, r in photo_events)
    merged = Report.objects.filter(state=State.MERGED)
    assert merged.exists()
    assert all(m.merged_into_id is not None and m.merged_into_id < m.pk for m in merged)
    dispatched = ReportEvent.objects.filter(kind=EventKind.DISPATCHED).select_related("report")
    for event in dispatched[:200]:
        assert event.data["department"] > 0
    assert not Report.objects.filter(reporter=None).exists()
    assert Report.objects.exclude(department=None).filter(department__region=None).count() == 0


@postgres_only
def test_on_postgresql_the_same_seed_gives_the_same_cases(db: None) -> None:
    generate(count=1000, seed=5)
    first = snapshot()
    Report.objects.update(merged_into=None)
    Report.objects.all().delete()
    CaseSequence.objects.all().delete()

    generate(count=1000, seed=5)
    again = snapshot()
    Report.objects.update(merged_into=None)
    Report.objects.all().delete()
    CaseSequence.objects.all().delete()
    generate(count=1000, seed=6)

    assert again == first
    assert snapshot() != first


def _schema() -> list[tuple[str, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.relname, i.relname, pg_get_indexdef(x.indexrelid), "
            "COALESCE(c.conname, ''), COALESCE(pg_get_constraintdef(c.oid), '') "
            "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "JOIN pg_class t ON t.oid = x.indrelid "
            "LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid "
            "AND c.conrelid = x.indrelid AND c.contype IN ('p', 'u') "
            "WHERE t.relname LIKE 'reports_%%' ORDER BY 1, 2"
        )
        return cursor.fetchall()


@postgres_only
def test_on_postgresql_the_indexes_come_back_as_they_were(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from casegen import generator

    generate(count=50)
    before = _schema()
    monkeypatch.setattr(generator, "REBUILD_INDEXES_AT", 1)

    generate(count=500, seed=9)

    numbers = list(Report.objects.values_list("number", flat=True))
    assert _schema() == before
    assert any(name == "reports_report_number_key" for _t, name, *_rest in before)
    assert len(numbers) == len(set(numbers)) == 550
    with pytest.raises(IntegrityError):
        Report.objects.filter(pk=Report.objects.order_by("pk").last().pk).update(
            number=numbers[0]
        )
