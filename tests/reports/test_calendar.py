"""The work calendar tables: seeding from chinese-calendar, admin edits, caching, admin pages."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta

import chinese_calendar
import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from accounts.models import User
from reports import calendar as calendar_module
from reports.calendar import (
    calendar_coverage_warnings,
    calendar_seed,
    get_calendar,
    reset_calendar_cache,
    schedule_update,
    statutory_holidays,
    uncovered_years,
    workday_save,
)
from reports.models import WorkDay, WorkSchedule
from reports.sla import CALENDAR_TZ, LimitUnit, deadline
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _fresh_calendar() -> None:
    reset_calendar_cache()


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=CALENDAR_TZ)


def seed(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("seed_calendar", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def days_of(year: int) -> list[date]:
    return [date(year, 1, 1) + timedelta(days=i) for i in range(365)]


# -- seeding --------------------------------------------------------------------------


def test_it_seeds_2025_exactly_as_chinese_calendar_says(db: None) -> None:
    seed("--years", "2025")
    calendar = get_calendar()
    days = days_of(2025)
    assert [calendar.is_working_day(d) for d in days] == [
        chinese_calendar.is_workday(d) for d in days
    ]
    assert WorkDay.objects.get(date=date(2025, 10, 3)).note == "国庆节"
    assert WorkDay.objects.get(date=date(2025, 10, 11)).note == "国庆节调休上班"


def test_it_counts_national_day_2025_from_the_seeded_table(db: None) -> None:
    seed("--years", "2025")
    due = deadline(at(2025, 9, 30, 10), 3, LimitUnit.WORKING_DAYS, calendar=get_calendar())
    assert due == at(2025, 10, 11, 17, 30)


def test_it_seeds_idempotently(db: None) -> None:
    seed("--years", "2024-2026")
    before = list(WorkDay.objects.values_list("date", "is_working", "note", "source"))
    revision = WorkSchedule.objects.get().revision
    out, _err = seed("--years", "2024-2026")
    after = list(WorkDay.objects.values_list("date", "is_working", "note", "source"))
    assert after == before
    assert "新增 0，更新 0，删除 0" in out
    assert WorkSchedule.objects.get().revision == revision


def test_it_never_overwrites_a_day_an_admin_edited(db: None) -> None:
    seed("--years", "2025")
    workday_save(day=date(2025, 10, 8), is_working=True, note="本市 10 月 8 日照常上班")
    out, _err = seed("--years", "2025")
    row = WorkDay.objects.get(date=date(2025, 10, 8))
    assert (row.is_working, row.source) == (True, WorkDay.Source.ADMIN)
    assert get_calendar().is_working_day(date(2025, 10, 8))
    assert "保留管理员修改 1" in out


def test_it_repairs_seeded_days_that_drifted_and_drops_ones_the_package_no_longer_lists(
    db: None,
) -> None:
    seed("--years", "2025")
    WorkDay.objects.filter(date=date(2025, 10, 3)).update(is_working=True)
    WorkDay.objects.create(
        date=date(2025, 6, 10), is_working=False, source=WorkDay.Source.CHINESE_CALENDAR
    )
    result = calendar_seed(years=[2025])
    assert (result.updated, result.removed) == (1, 1)
    assert not WorkDay.objects.get(date=date(2025, 10, 3)).is_working
    assert not WorkDay.objects.filter(date=date(2025, 6, 10)).exists()


def test_it_skips_a_year_chinese_calendar_does_not_know_without_crashing(db: None) -> None:
    out, err = seed("--years", "2026-2027")
    assert "2027 年：chinese-calendar 尚无数据" in err
    assert "已导入 2026 年" in out
    assert not WorkDay.objects.filter(date__year=2027).exists()


def test_it_refuses_a_backwards_year_range(db: None) -> None:
    with pytest.raises(CommandError, match="年份格式"):
        seed("--years", "2027-2024")


# -- coverage -------------------------------------------------------------------------


@pytest.fixture
def _package_ends_in_2026(monkeypatch: pytest.MonkeyPatch) -> None:
    """chinese-calendar 1.11 knows up to 2026; keep these tests true after an upgrade."""
    monkeypatch.setattr(calendar_module, "package_years", lambda: range(2004, 2027))


@pytest.mark.usefixtures("_package_ends_in_2026")
def test_it_warns_that_next_years_make_up_days_are_not_published(db: None) -> None:
    seed("--years", "2026")
    warnings = calendar_coverage_warnings(today=date(2026, 12, 24))
    assert uncovered_years(today=date(2026, 12, 24)) == [2027]
    assert len(warnings) == 1
    assert "2027 年的调休安排尚未公布" in warnings[0]
    assert "法定节假日" in warnings[0]


@pytest.mark.usefixtures("_package_ends_in_2026")
def test_it_skips_new_years_day_2027_from_the_statutory_holidays(
    db: None, caplog: pytest.LogCaptureFixture
) -> None:
    seed("--years", "2026")
    due = deadline(at(2026, 12, 24, 10), 10, LimitUnit.WORKING_DAYS, calendar=get_calendar())
    # 25, 28–31 Dec, then 元旦 (Fri 1 Jan 2027) is skipped: 4–8 Jan.
    assert due == at(2027, 1, 8, 17, 30)
    assert "make-up working days" in caplog.text
    assert "2027" in caplog.text


@pytest.mark.usefixtures("_package_ends_in_2026")
def test_it_skips_the_spring_festival_2027_from_the_statutory_holidays(db: None) -> None:
    assert statutory_holidays(2027)[date(2027, 2, 6)] == "春节"
    # Wed 3 Feb: 4 Feb is day 1; 除夕 5 Feb, 春节 6–8 Feb and the days in lieu 9–10 Feb
    # are off; 11, 12, 15, 16 Feb are days 2–5.
    due = deadline(at(2027, 2, 3, 10), 5, LimitUnit.WORKING_DAYS, calendar=get_calendar())
    assert due == at(2027, 2, 16, 17, 30)
    assert "2027 年的调休安排尚未公布" in calendar_coverage_warnings(today=date(2027, 1, 4))[0]


@pytest.mark.usefixtures("_package_ends_in_2026")
def test_an_admin_working_day_on_a_2027_holiday_wins(db: None) -> None:
    seed("--years", "2026")
    workday_save(day=date(2027, 1, 1), is_working=True, note="本地安排上班")
    due = deadline(at(2026, 12, 24, 10), 10, LimitUnit.WORKING_DAYS, calendar=get_calendar())
    assert due == at(2027, 1, 7, 17, 30)
    # The package's holidays still hold where the admin said nothing.
    assert not get_calendar().is_working_day(date(2027, 2, 8))


@pytest.mark.usefixtures("_package_ends_in_2026")
def test_it_stops_warning_once_an_admin_enters_a_make_up_day(db: None) -> None:
    seed("--years", "2026")
    workday_save(day=date(2027, 2, 20), is_working=True, note="春节调休上班")
    assert calendar_coverage_warnings(today=date(2026, 12, 24)) == []
    assert get_calendar().is_working_day(date(2027, 2, 20))
    assert not get_calendar().is_working_day(date(2027, 1, 1))


def test_it_falls_back_to_weekdays_for_a_year_chinese_calendar_knows_but_nobody_seeded(
    db: None,
) -> None:
    warnings = calendar_coverage_warnings(today=date(2025, 12, 24))
    assert "2025 年的节假日和调休尚未录入" in warnings[0]
    assert get_calendar().is_working_day(date(2025, 10, 1))


# -- the cached calendar --------------------------------------------------------------


def test_it_reuses_the_cached_calendar_with_one_query(
    db: None, django_assert_num_queries: object
) -> None:
    seed("--years", "2025")
    first = get_calendar()
    with django_assert_num_queries(1):  # type: ignore[operator]
        # SELECT revision FROM reports_workschedule
        second = get_calendar()
    assert second is first


def test_it_sees_an_admin_edit_at_the_next_lookup(db: None) -> None:
    before = get_calendar()
    workday_save(day=date(2025, 3, 10), is_working=False, note="临时停工")
    after = get_calendar()
    assert before.is_working_day(date(2025, 3, 10))
    assert not after.is_working_day(date(2025, 3, 10))


def test_it_counts_working_hours_in_the_edited_office_hours(db: None) -> None:
    schedule_update(
        morning_start=time(9),
        morning_end=time(12),
        afternoon_start=time(14),
        afternoon_end=time(18),
    )
    due = deadline(at(2025, 3, 3, 7), 4, LimitUnit.WORKING_HOURS, calendar=get_calendar())
    assert due == at(2025, 3, 3, 15, 0)


def test_it_refuses_office_hours_out_of_order(db: None) -> None:
    with pytest.raises(ValueError, match="不能重叠"):
        schedule_update(
            morning_start=time(9),
            morning_end=time(14),
            afternoon_start=time(13),
            afternoon_end=time(18),
        )
    assert WorkSchedule.objects.get().morning_end == time(12)


# -- admin ----------------------------------------------------------------------------


def test_the_admin_lists_days_and_warns_about_missing_years(
    client: Client, admin_user: User
) -> None:
    seed("--years", "2025")
    client.force_login(admin_user)
    response = client.get(reverse("admin:reports_workday_changelist"), {"date__year": "2025"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "国庆节调休上班" in page
    assert "的节假日和调休尚未录入" in page  # this year or next has no rows here


def test_an_admin_edit_of_a_seeded_day_becomes_an_admin_day(
    client: Client, admin_user: User
) -> None:
    seed("--years", "2025")
    row = WorkDay.objects.get(date=date(2025, 10, 8))
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:reports_workday_change", args=[row.pk]),
        {"is_working": "on", "note": "本市照常上班"},
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.is_working, row.source) == (True, WorkDay.Source.ADMIN)
    assert get_calendar().is_working_day(date(2025, 10, 8))


def test_the_admin_cannot_delete_a_seeded_day(client: Client, admin_user: User) -> None:
    seed("--years", "2025")
    row = WorkDay.objects.get(date=date(2025, 10, 8))
    client.force_login(admin_user)
    response = client.post(reverse("admin:reports_workday_delete", args=[row.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert WorkDay.objects.filter(pk=row.pk).exists()


def test_the_admin_edits_office_hours_and_refuses_them_out_of_order(
    client: Client, admin_user: User
) -> None:
    client.force_login(admin_user)
    url = reverse("admin:reports_workschedule_change", args=[1])
    bad = {
        "morning_start": "09:00",
        "morning_end": "14:00",
        "afternoon_start": "13:00",
        "afternoon_end": "18:00",
    }
    refused = client.post(url, bad)
    good = client.post(url, {**bad, "morning_end": "12:00", "afternoon_start": "14:00"})
    assert refused.status_code == 200
    assert "工作时段须按先后排列" in refused.content.decode()
    assert good.status_code == 302
    assert get_calendar().periods == ((time(9), time(12)), (time(14), time(18)))


def test_the_schedule_list_leads_to_the_one_schedule(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)
    response = client.get(reverse("admin:reports_workschedule_changelist"))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:reports_workschedule_change", args=[1])


def test_staff_without_calendar_permissions_are_refused(client: Client, db: None) -> None:
    staff = UserFactory(username="staff-no-perms", is_staff=True)
    client.force_login(staff)
    assert client.get(reverse("admin:reports_workday_changelist")).status_code == 403
    assert client.get(reverse("admin:reports_workschedule_changelist")).status_code == 403


def test_a_signed_in_non_staff_user_is_sent_to_the_admin_login(
    client: Client, outsider: User
) -> None:
    client.force_login(outsider)
    response = client.get(reverse("admin:reports_workday_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
