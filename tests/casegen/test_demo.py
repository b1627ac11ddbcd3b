"""The demo city whole: a case history on first launch, a login for every role that must act,
and every page of every demo login showing something real (ISSUE 14/15)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db.models import Sum
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from evaluation.models import DailyRollup
from grids.models import Building, Role
from grids.workspaces import WORK_PAGES, WORKSPACE_ORDER, workspace_url
from reports.models import Notification, Report, ReportEvent, State
from residents.models import Household, PersonTag

# A Wednesday morning, mid-month: the month's statistics have days behind them.
NOW = datetime(2026, 3, 18, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
CASE_NUMBER = re.compile(r"\d{6}-\d{8}-\d{4}")
HIDDEN = re.compile(r"<p\b[^>]*\bhidden\b[^>]*>.*?</p>", re.S)
DEMO = json.loads((Path(settings.BASE_DIR) / "seeds/demo.json").read_text(encoding="utf-8"))
# The pages whose list holds cases; the others must not show their empty state.
CASE_LISTS = {"reports:mine", "reports:verify_queue", "reports:triage", "reports:board",
              "reports:overdue", "reports:inbox"}
EMPTY = ["暂无住户", "本周没有需要走访的住户", "本期没有数据", "没有待办案件", "没有待分拨的案件",
         "没有超期案件", "暂无待核查的案件", "没有符合条件的案件", "没有通知"]
# 西宁's demo corner has no center and no department: nothing there is ever handled, so
# its worker has nothing to check.
NOTHING_TO_CHECK = {("xining", "reports:verify_queue")}


@pytest.fixture
def demo(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    call_command("load_demo", "--quiet-logins", stdout=StringIO())


def _client(username: str) -> Client:
    c = Client()
    c.force_login(User.objects.get(username=username))
    return c


def test_it_writes_a_90_day_history_in_every_state_once(demo: None) -> None:
    cases = Report.objects.all()
    counts = (cases.count(), ReportEvent.objects.count(), Notification.objects.count())

    out = StringIO()
    call_command("load_demo_cases", stdout=out)

    assert 300 <= counts[0] <= 400
    assert set(cases.values_list("state", flat=True)) == set(State.values)
    assert cases.filter(is_overdue=True).count() >= 10
    assert cases.filter(self_handled=True).exists()
    assert not cases.filter(created_at__lt=NOW - timedelta(days=90)).exists()
    assert not ReportEvent.objects.filter(at__gt=NOW).exists()
    # The statistics count the history at once (rollups rebuilt from the events).
    rolled = DailyRollup.objects.aggregate(reported=Sum("reported"), closed=Sum("closed"))
    assert rolled == {"reported": cases.count(), "closed": cases.filter(
        state=State.CLOSED, self_handled=False).count()}
    assert out.getvalue().strip() == "案件历史：新建 0 件"
    assert (cases.count(), ReportEvent.objects.count(), Notification.objects.count()) == counts


def test_the_street_department_has_a_login_with_cases_in_its_inbox(demo: None) -> None:
    zhifa = User.objects.get(username="zhifa")
    assignment = zhifa.assignments.get()

    page = _client("zhifa").get(reverse("reports:inbox")).content.decode()

    assert (assignment.role, assignment.department.name) == (Role.HANDLER, "万兴街道综合执法大队")
    assert CASE_NUMBER.search(page)
    assert Report.objects.filter(
        department=assignment.department, state__in=[State.DISPATCHED, State.ACKNOWLEDGED]
    ).exists()


def test_zhang_xins_grid_has_households_with_members_and_care_tags_in_every_building(
    demo: None,
) -> None:
    grid_code = next(u["region"] for u in DEMO["users"] if u["username"] == "zhangxin")
    buildings = Building.objects.filter(grid__code=grid_code)
    households = Household.objects.filter(grid__code=grid_code)

    assert buildings.count() == 6
    assert all(households.filter(entrance__building=b).exists() for b in buildings)
    assert not households.filter(members__isnull=True).exists()
    assert PersonTag.objects.filter(person__household__grid__code=grid_code).count() > 20
    assert households.filter(care_level__isnull=False).count() > 20


def test_the_leader_has_unread_notices_of_overdue_cases(demo: None) -> None:
    notices = Notification.objects.filter(recipient__username="lingdao")

    page = _client("lingdao").get(reverse("reports:notifications")).content.decode()

    assert notices.filter(kind="overdue", read_at__isnull=True).exists()
    assert 'id="bell"' in page and CASE_NUMBER.search(page)


def _pages(username: str) -> list[tuple[str, str]]:
    """(name, url) of the login's landing page, every work page of its roles, its bell."""
    user = User.objects.get(username=username)
    roles = set(user.assignments.values_list("role", flat=True))
    pages = []
    for role in (r for r in WORKSPACE_ORDER if r in roles):
        pages.append((f"workspace:{role}", workspace_url(role)))
        pages += [(name, reverse(name)) for name, _label in WORK_PAGES.get(role, [])]
    return pages


def test_every_page_of_every_demo_login_shows_something(demo: None) -> None:
    shown = {}
    expected = {}
    for username in (u["username"] for u in DEMO["users"]):
        client = _client(username)
        for name, url in _pages(username):
            response = client.get(url)
            # An empty-state line the page hides (shown by its script when a list empties)
            # is not shown.
            html = HIDDEN.sub("", response.content.decode())
            empty = [e for e in EMPTY if e in html]
            has_cases = bool(CASE_NUMBER.search(html)) if name in CASE_LISTS else True
            if (username, name) not in NOTHING_TO_CHECK:
                shown[username, name] = (response.status_code, empty, has_cases)
                expected[username, name] = (200, [], True)

    assert len(shown) > 40
    assert shown == expected
