"""The source story, on the demo data with real names and codes.

张鑫, grid worker of 天大北五村社区 第六网格, reports a small tree on the roof of building 25,
entrance 3; 万兴街道 transfers it up (吹哨); 南开区 grid center dispatches it to 南开区城管委;
the handler acknowledges, and handles it the next day with a photo; 张鑫 verifies; closed.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from grids.models import Building, Department
from reports import services, workflow
from reports.models import Category, EventKind, State
from tests.reports.conftest import jpeg

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = datetime(2026, 11, 17, 9, 5, tzinfo=SHANGHAI)
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def at(self, day: int, hour: int, minute: int) -> None:
        self.now = datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.django_db
def test_it_runs_the_roof_tree_story_from_report_to_closing(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks
) -> None:
    call_command("load_demo", "--quiet-logins", stdout=None)
    clock = Clock(monkeypatch)
    zhangxin = User.objects.get(username="zhangxin")
    wanxing = User.objects.get(username="wanxing")
    nankai = User.objects.get(username="nankai")
    chengguan = User.objects.get(username="chengguan")
    b25 = Building.objects.get(grid__code="120104005035006", number="25")
    entrance3 = b25.entrances.get(number="3")
    roof_tree = Category.objects.get(name="楼顶杂树")
    cgw = Department.objects.get(name="南开区城管委")

    # Tuesday 09:05: 张鑫 files from the phone, standing at the building.
    with django_capture_on_commit_callbacks(execute=True):
        report = services.report_file(
            reporter=zhangxin,
            category=roof_tree,
            description="25号楼3门楼顶长出一棵小树",
            idempotency_key="story-1",
            lng=b25.lng,
            lat=b25.lat,
            building=b25,
            entrance=entrance3,
            photos=[jpeg("roof.jpg")],
        )
    report.refresh_from_db()
    assert report.grid.name == "第六网格" and report.street.name == "万兴街道"
    assert report.number.startswith("120104-20261117-")
    assert report.proposed_department == cgw  # the rule proposes 南开区城管委

    clock.at(17, 9, 12)
    workflow.report_transfer_up(report, actor=wanxing, note="楼顶作业需区城管委处置")
    clock.at(17, 9, 20)
    workflow.report_dispatch(report, actor=nankai, department=cgw, note="请区城管委处置")
    clock.at(17, 10, 0)
    workflow.report_acknowledge(report, actor=chengguan)
    clock.at(18, 14, 30)  # the next day
    with django_capture_on_commit_callbacks(execute=True):
        workflow.report_handle(
            report, actor=chengguan, note="已清除楼顶杂树及根系", photos=[jpeg("done.jpg")]
        )
    clock.at(18, 14, 50)
    workflow.report_verify(report, actor=zhangxin, passed=True, note="现场核查，已清除")
    clock.at(18, 15, 10)
    workflow.report_close(report, actor=wanxing, note="结案")

    report.refresh_from_db()
    assert report.state == State.CLOSED and report.closed_on_time is True
    assert (
        report.accept_on_time,
        report.dispatch_on_time,
        report.handle_on_time,
        report.verify_on_time,
    ) == (True, True, True, True)
    assert report.photos.filter(kind="result").count() == 1
    assert not report.photos.filter(thumbnail="").exists()  # thumbnails made after commit

    timeline = [
        (
            e.kind,
            e.actor.full_name if e.actor else "系统",
            timezone.localtime(e.at, SHANGHAI).strftime("%m-%d %H:%M"),
        )
        for e in report.events.select_related("actor")
    ]
    assert timeline == [
        (EventKind.FILED, "张鑫", "11-17 09:05"),
        (EventKind.ROUTED, "系统", "11-17 09:05"),
        (EventKind.ACCEPTED, "万兴街道网格中心", "11-17 09:12"),  # 吹哨 is a 立案 too
        (EventKind.TRANSFERRED, "万兴街道网格中心", "11-17 09:12"),
        (EventKind.DISPATCHED, "南开区网格中心", "11-17 09:20"),
        (EventKind.ACKNOWLEDGED, "李强（南开区城管委）", "11-17 10:00"),
        (EventKind.HANDLED, "李强（南开区城管委）", "11-18 14:30"),
        (EventKind.VERIFIED, "张鑫", "11-18 14:50"),
        (EventKind.CLOSED, "万兴街道网格中心", "11-18 15:10"),
    ]
