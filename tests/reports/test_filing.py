"""Filing refuses a missing or over-long submission key — for a normal and a
self-handled filing alike — and never hands back an earlier, different case."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import OperationalError

from accounts.models import User
from reports import effects, services, tasks
from reports.errors import WorkflowError
from reports.models import Report
from tests.conftest import City
from tests.reports.conftest import Catalog, jpeg

pytestmark = pytest.mark.django_db


def _file(worker: User, catalog: Catalog, key: str) -> Report:
    return services.report_file(
        reporter=worker, category=catalog.garbage, description="垃圾堆放",
        idempotency_key=key, lng=117.175, lat=39.105,
    )


def _self_handled(worker: User, catalog: Catalog, key: str) -> Report:
    return services.report_file_self_handled(
        reporter=worker, category=catalog.garbage, description="随手清理了垃圾",
        idempotency_key=key, lng=117.175, lat=39.105,
        before_photos=[jpeg("before.jpg")], after_photos=[jpeg("after.jpg")],
    )


FILINGS: list[Callable[[User, Catalog, str], Report]] = [_file, _self_handled]


@pytest.mark.parametrize("filing", FILINGS, ids=["report_file", "self_handled"])
@pytest.mark.parametrize("key", ["", "   ", "k" * 65], ids=["empty", "blank", "65-chars"])
def test_it_refuses_a_missing_or_too_long_key_and_files_nothing(
    worker: User, city: City, catalog: Catalog, filing: Any, key: str
) -> None:
    with pytest.raises(WorkflowError, match="提交标识"):
        filing(worker, catalog, key)
    assert Report.objects.count() == 0


def test_it_does_not_answer_an_empty_key_with_an_earlier_case(
    worker: User, city: City, catalog: Catalog
) -> None:
    """Before, a self-handled filing with an empty key returned whatever case the worker
    had once filed without one."""
    Report.objects.filter(pk=_file(worker, catalog, "first").pk).update(idempotency_key="")
    with pytest.raises(WorkflowError, match="提交标识"):
        _self_handled(worker, catalog, "")
    assert Report.objects.count() == 1


@pytest.mark.parametrize("filing", FILINGS, ids=["report_file", "self_handled"])
def test_it_accepts_a_64_character_key_and_returns_the_same_case_on_retry(
    worker: User, city: City, catalog: Catalog, filing: Any
) -> None:
    key = "k" * 64
    first = filing(worker, catalog, key)
    assert filing(worker, catalog, key).pk == first.pk
    assert Report.objects.count() == 1


def test_it_retries_an_in_process_routing_that_found_the_database_locked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []

    def flaky_route(report_id: int) -> None:
        calls.append(report_id)
        if len(calls) < 3:
            raise OperationalError("database is locked")

    monkeypatch.setattr(tasks, "report_route", flaky_route)
    monkeypatch.setattr(effects, "_sleep", lambda seconds: None)
    assert effects.enqueue_route(7) is True
    assert calls == [7, 7, 7]


def test_it_sweeps_in_process_when_routing_keeps_failing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[str] = []
    send = effects.send

    def recording_send(name: str, args: tuple[Any, ...], what: str) -> bool:
        sent.append(name)
        return send(name, args, what)

    def broken_route(report_id: int) -> None:
        raise OperationalError("database is locked")

    monkeypatch.setattr(tasks, "report_route", broken_route)
    monkeypatch.setattr(effects, "send", recording_send)
    monkeypatch.setattr(effects, "_sleep", lambda seconds: None)
    assert effects.enqueue_route(7) is False
    assert sent == [effects.ROUTE_TASK, effects.SWEEP_UNROUTED_TASK]
