"""The phone's queue when the server's photo storage is full: the report stays on the
phone with the server's Chinese message, is not resent by itself, and goes once the
worker sends it again after the disk was freed."""

from __future__ import annotations

import errno
from typing import Any
from unittest import mock

import pytest
from django.core.files.storage import FileSystemStorage

from accounts.models import User
from reports.models import Report
from tests.e2e.test_phone_filing import _fill, _log_in, _open_filing, _wait_for
from tests.reports import conftest as reports_fixtures
from tests.reports.conftest import Catalog

pytestmark = pytest.mark.e2e

catalog = reports_fixtures.catalog


def test_it_holds_a_report_the_full_disk_refused_and_sends_it_when_asked(
    phone: Any, live_server: Any, worker: User, catalog: Catalog, screenshot: Any
) -> None:
    posts: list[str] = []
    phone.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    _log_in(phone, live_server.url)
    _open_filing(phone, live_server.url)
    _fill(phone)
    full = OSError(errno.ENOSPC, "No space left on device")

    with mock.patch.object(FileSystemStorage, "save", side_effect=full):
        phone.get_by_role("button", name="提交上报").click()
        phone.locator("#form-errors").filter(has_text="照片存储空间已满").wait_for()
        sent = len(posts)
        # The 20 s timer, the "online" event, another tab: none resends a held report.
        phone.evaluate("() => JZTOutbox.flush()")
        phone.evaluate("() => new Promise(r => setTimeout(r, 500))")
        held = phone.evaluate("() => JZTOutbox.all().then(i => i.map(x => x.status))")
    screenshot(phone, "phone-file-storage-full")

    assert len(posts) == sent
    assert held == ["held"]
    assert Report.objects.count() == 0

    phone.get_by_role("button", name="提交上报").click()
    phone.wait_for_url("**/m/mine/")
    phone.get_by_text("已上报").first.wait_for()
    _wait_for(lambda: Report.objects.filter(photos__thumbnail__gt="").count() == 1)
    assert Report.objects.get().photos.count() == 1
