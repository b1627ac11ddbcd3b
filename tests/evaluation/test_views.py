"""The statistics pages, drill-down, leader's screen and sheets: who sees what, and the
figures a user reads."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import User
from evaluation.forms import StatsForm
from evaluation.models import (
    DailyRollup,
    DailyStreetRollup,
    MonthlyCategoryRollup,
    MonthlyGridRollup,
    MonthlyRollup,
)
from evaluation.rollup import rollups_catch_up
from grids.models import Department
from tests.conftest import City
from tests.evaluation.conftest import March
from tests.factories import make_region

pytestmark = pytest.mark.django_db

MARCH = {"period": "month", "date": "2025-03-01"}


@pytest.fixture
def month(march: Callable[..., March]) -> March:
    m = march()
    rollups_catch_up(settle=timedelta(0))
    return m


def _client(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_it_shows_a_leader_the_streets_of_their_district_with_rates(
    month: March, leader: User, city: City
) -> None:
    response = _client(leader).get(reverse("evaluation:stats"), {**MARCH, "by": "region"})

    assert response.status_code == 200
    body = response.content.decode()
    assert "万兴街道" in body
    assert "72.7" in body  # 按期结案率 16 / 22
    assert "新兴街道" not in body  # another district


def test_it_drills_down_from_a_figure_to_the_cases_behind_it(
    month: March, street_staff: User, city: City
) -> None:
    response = _client(street_staff).get(
        reverse("evaluation:cases"), {**MARCH, "metric": "closed", "region": city.street.pk}
    )

    assert response.status_code == 200
    numbers = {c.number for c, _url in response.context["rows"]}
    expected = {c.number for k in "L1 A B C D E F G M N".split() for c in month.cases[k]}
    assert numbers == expected
    assert response.context["page"].paginator.count == 20


def test_it_drills_down_to_first_dispatches_only(month: March, street_staff: User) -> None:
    response = _client(street_staff).get(
        reverse("evaluation:cases"), {**MARCH, "metric": "dispatched"}
    )

    assert response.context["page"].paginator.count == 22


def test_it_gives_404_for_a_region_outside_the_viewers_scope(
    month: March, other_street_staff: User, city: City
) -> None:
    stats = _client(other_street_staff).get(
        reverse("evaluation:stats"), {**MARCH, "region": city.street.pk}
    )
    cases = _client(other_street_staff).get(
        reverse("evaluation:cases"), {**MARCH, "metric": "closed", "region": city.street.pk}
    )

    assert (stats.status_code, cases.status_code) == (404, 404)


def test_it_refuses_statistics_to_someone_with_no_role(outsider: User) -> None:
    assert _client(outsider).get(reverse("evaluation:stats")).status_code == 403


def test_it_shows_a_grid_worker_only_their_own_scores(
    month: March, worker: User, neighbour_worker: User
) -> None:
    response = _client(neighbour_worker).get(reverse("evaluation:stats"), MARCH)

    assert response.context["q"].by == "worker"
    labels = [row["label"] for row in response.context["rows"] if not row["is_total"]]
    assert labels == ["李邻"]


def test_it_shows_a_department_only_its_own_figures(
    month: March, handler: User, street_department: Department
) -> None:
    response = _client(handler).get(reverse("evaluation:stats"), {**MARCH, "by": "department"})

    labels = [row["label"] for row in response.context["rows"] if not row["is_total"]]
    assert labels == ["南开区城管委"]
    denied = _client(handler).get(
        reverse("evaluation:stats"), {**MARCH, "department": street_department.pk}
    )
    assert denied.status_code == 404


def test_it_says_in_chinese_when_a_date_range_is_backwards(month: March, leader: User) -> None:
    response = _client(leader).get(
        reverse("evaluation:stats"), {"period": "range", "date": "2025-03-31", "end": "2025-03-01"}
    )

    assert response.status_code == 200
    assert "结束日期不能早于开始日期" in response.content.decode()


def test_it_exports_the_department_sheet_as_xlsx_with_no_live_formula(
    month: March, leader: User, city: City
) -> None:
    Department.objects.filter(pk=city.department.pk).update(name="=HYPERLINK(\"x\")")

    response = _client(leader).get(
        reverse("evaluation:export"), {**MARCH, "by": "department", "format": "xlsx"}
    )

    ws = load_workbook(io.BytesIO(response.content)).active
    assert ws is not None
    assert "综合评价考核表" in ws["A1"].value
    assert "2025年3月" in ws["A2"].value
    assert any("按期结案率 = 按期结案数 ÷ 应结案数" in str(c.value) for c in ws["A"])
    assert ws.freeze_panes is not None
    names = [c.value for c in ws["A"]]
    assert "'=HYPERLINK(\"x\")" in names
    assert not any(isinstance(v, str) and v.startswith("=") for v in names)


def test_it_exports_the_worker_sheet_as_csv(month: March, street_staff: User) -> None:
    response = _client(street_staff).get(
        reverse("evaluation:export"), {**MARCH, "by": "worker", "format": "csv"}
    )

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert response["Content-Type"].startswith("text/csv")
    names = [r[0] for r in rows if r]
    assert "张鑫" in names and "李邻" in names


def test_it_refuses_an_unknown_export_format(leader: User) -> None:
    response = _client(leader).get(reverse("evaluation:export"), {"format": "pdf"})

    assert response.status_code == 400
    assert "导出格式只能是 xlsx 或 csv" in response.content.decode()


def test_it_serves_the_leaders_screen_and_its_data(month: March, leader: User) -> None:
    page = _client(leader).get(reverse("evaluation:screen"), MARCH)
    data = _client(leader).get(reverse("evaluation:screen_json"), MARCH).json()

    assert page.status_code == 200
    assert b'id="screen-data"' in page.content
    assert b"<script>" not in page.content  # data only through json_script
    assert data["kpi"]["reported"] == 28
    assert data["kpi"]["overdue_open"] == 1
    assert [o["number"] for o in data["overdue"]] == [month.cases["K"][2].number]
    assert {v["name"] for v in data["map"]["values"]} == {"万兴街道"}
    assert len(data["trend"]) == 31


def test_it_shows_the_screens_trend_categories_and_hot_spots_of_the_month(
    month: March, leader: User
) -> None:
    data = _client(leader).get(reverse("evaluation:screen_json"), MARCH).json()

    trend = {d["day"]: d for d in data["trend"]}
    # 3 March: ten clean cases filed (A), the February case closed (L1); 4 March: A closed.
    assert (trend["2025-03-03"]["reported"], trend["2025-03-03"]["closed"]) == (10, 1)
    assert (trend["2025-03-04"]["reported"], trend["2025-03-04"]["closed"]) == (0, 10)
    assert sum(d["reported"] for d in data["trend"]) == 28
    assert sum(d["closed"] for d in data["trend"]) == 20  # L2 closes on 1 April
    # 26 roof trees (房屋安全) and the two self-handled garbage reports (市容环境).
    assert data["categories"] == [{"name": "房屋安全", "reported": 26},
                                  {"name": "市容环境", "reported": 2}]
    # N was filed in the neighbouring grid; K[2] went overdue in 第六网格.
    assert data["hot_spots"] == [{"name": "第六网格", "reported": 27, "overdue": 1},
                                 {"name": "第五网格", "reported": 1, "overdue": 0}]
    # the clock stands at 1 April 10:10: L2 was closed today.
    assert (data["kpi"]["today_new"], data["kpi"]["today_closed"]) == (0, 1)


def test_it_gives_the_screen_the_same_figures_from_its_own_tables_as_from_the_daily_rows(
    month: March, leader: User, city: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evaluation import screen, selectors

    scope = selectors.evaluation_scope(leader)
    q = StatsForm({**MARCH, "region": city.street.pk}, scope=scope).query()
    fast = screen.screen_data(leader, scope, q)
    monkeypatch.setattr(screen, "screen_rollup", lambda *a, **kw: None)  # daily rows only

    slow = screen.screen_data(leader, scope, q)

    assert {k: v for k, v in fast.items() if k != "updated"} == {
        k: v for k, v in slow.items() if k != "updated"
    }
    assert fast["hot_spots"][0]["reported"] == 27


def test_it_reads_the_screen_from_the_daily_rows_for_a_department(
    month: March, handler: User
) -> None:
    # A department's own scope: the screen's tables have no department column.
    data = _client(handler).get(reverse("evaluation:screen_json"), MARCH).json()

    assert data["kpi"]["closed"] == 1  # M, closed at the district department
    assert sum(d["closed"] for d in data["trend"]) == 1


def test_it_gives_a_city_the_same_figures_whether_or_not_another_city_exists(
    month: March, admin_user: User, city: City
) -> None:
    url = reverse("evaluation:screen_json")
    alone = _client(admin_user).get(url, {**MARCH, "region": city.city.pk}).json()
    table_alone = _client(admin_user).get(
        reverse("evaluation:stats"), {**MARCH, "region": city.city.pk, "by": "street"}
    ).context["rows"]
    # A second city with figures of its own in March: now the city must be filtered.
    other = make_region(make_region(None, "西宁市", "T630100"), "城东区", "T630102")
    march, kw = date(2025, 3, 1), {"street_id": 999_999, "district_id": other.pk}
    DailyRollup.objects.create(day=march, grid_id=999_998, community_id=999_997,
                               category_id=1, source="hotline", reported=100, **kw)
    MonthlyRollup.objects.create(day=march, reported=100, **kw)
    DailyStreetRollup.objects.create(day=date(2025, 3, 3), reported=100, **kw)
    MonthlyCategoryRollup.objects.create(day=march, category_id=1, reported=100, **kw)
    MonthlyGridRollup.objects.create(day=march, grid_id=999_998, community_id=999_997,
                                     reported=100, **kw)

    beside = _client(admin_user).get(url, {**MARCH, "region": city.city.pk}).json()
    table_beside = _client(admin_user).get(
        reverse("evaluation:stats"), {**MARCH, "region": city.city.pk, "by": "street"}
    ).context["rows"]

    assert {k: v for k, v in alone.items() if k != "updated"} == {
        k: v for k, v in beside.items() if k != "updated"
    }
    assert alone["kpi"]["reported"] == 28 and alone["kpi"]["overdue_open"] == 1
    assert [r["html"] for r in table_alone] == [r["html"] for r in table_beside]


def test_it_writes_a_hostile_region_name_into_the_table_as_text(
    month: March, leader: User, city: City
) -> None:
    payload = '<img src=x onerror="alert(1)">万兴'
    city.street.name = payload
    city.street.save(update_fields=["name"])

    response = _client(leader).get(reverse("evaluation:stats"), {**MARCH, "by": "region"})

    body = response.content.decode()
    assert payload not in body
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;万兴" in body


@pytest.mark.parametrize("name", ["evaluation:stats", "evaluation:cases"])
def test_it_keeps_the_main_navigation_and_the_bell_on_the_statistics_pages(
    street_staff: User, name: str
) -> None:
    html = _client(street_staff).get(reverse(name), MARCH).content.decode()
    assert 'class="mainnav"' in html
    assert f'href="{reverse("reports:triage")}"' in html  # the center's own pages
    assert 'id="bell"' in html


def test_it_stops_the_screens_trend_at_today(
    month: March, leader: User, clock: Callable[[str], None]
) -> None:
    clock("2025-03-12 10:00")
    data = _client(leader).get(reverse("evaluation:screen_json"), MARCH).json()
    trend = {d["day"]: d for d in data["trend"]}
    assert len(trend) == 31  # the month's axis stays whole
    assert trend["2025-03-12"]["reported"] is not None
    assert all(
        (trend[f"2025-03-{d}"]["reported"], trend[f"2025-03-{d}"]["closed"]) == (None, None)
        for d in range(13, 32)
    )


def test_it_shows_the_month_chosen_when_the_statistics_page_opens(street_staff: User) -> None:
    html = _client(street_staff).get(reverse("evaluation:stats")).content.decode()
    assert '<option value="month" selected>' in html
