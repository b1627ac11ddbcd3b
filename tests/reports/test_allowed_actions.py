"""What the UI offers is what the workflow accepts (STYLE.md §8b).

Every persona × every state (street- and district-level where it matters, suspended or
not, with an extension or suspension request pending or not) × every action:
``allowed_actions`` offers it — and the rendered case page shows its form — exactly when
the real transition function, called with valid arguments inside a rolled-back
savepoint, accepts it."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from grids.models import Department, Role
from reports import workflow
from reports.errors import WorkflowError
from reports.models import (
    DispatchLevel,
    Report,
    RequestKind,
    RequestStatus,
    State,
    TimeRequest,
)
from reports.views.case import ACTIONS
from tests.conftest import City
from tests.factories import UserFactory, assign
from tests.reports.conftest import Catalog, file_report, jpeg

pytestmark = pytest.mark.django_db


class _Rollback(Exception):
    pass


def _states(
    worker: User, city: City, catalog: Catalog, street_department: Department
) -> dict[str, Report]:
    """One case per state variant, built by setting fields directly."""
    now = timezone.now()
    at_department: dict[str, Any] = {
        "handle_started": now,
        "handle_due": now + timedelta(days=5),
    }
    street = {"department": street_department, "dispatch_level": DispatchLevel.STREET}
    district = {"department": city.department, "dispatch_level": DispatchLevel.DISTRICT}
    suspended = {
        "suspended": True,
        "suspension_used": True,
        "suspended_at": now,
        "suspended_until": now + timedelta(days=3),
    }
    variants: dict[str, dict[str, Any]] = {
        "reported": {"state": State.REPORTED},
        "accepted": {"state": State.ACCEPTED, "dispatch_due": now + timedelta(hours=1)},
        "transferred": {"state": State.TRANSFERRED, "dispatch_due": now + timedelta(hours=1)},
        "rejected": {"state": State.REJECTED, "closed_at": now},
        "closed": {"state": State.CLOSED, "closed_at": now, **street},
    }
    for name, level in (("street", street), ("district", district)):
        variants[f"dispatched/{name}"] = {"state": State.DISPATCHED, **level, **at_department}
        variants[f"acknowledged/{name}"] = {
            "state": State.ACKNOWLEDGED, **level, **at_department
        }
        variants[f"acknowledged/{name}/suspended"] = {
            "state": State.ACKNOWLEDGED, **level, **at_department, **suspended
        }
        variants[f"acknowledged/{name}/extended_max"] = {
            "state": State.ACKNOWLEDGED, **level, **at_department, "extension_count": 2
        }
        variants[f"handled/{name}"] = {
            "state": State.HANDLED, **level, "verify_due": now + timedelta(days=1)
        }
        variants[f"verified/{name}"] = {"state": State.VERIFIED, **level}
    # A request waiting for the center: the handler may not ask again, the center decides.
    pending: dict[str, str] = {}
    for name, level in (("street", street), ("district", district)):
        for state in (State.DISPATCHED, State.ACKNOWLEDGED):
            for kind in (RequestKind.EXTENSION, RequestKind.SUSPENSION):
                key = f"{state}/{name}/{kind}_pending"
                variants[key] = {"state": state, **level, **at_department}
                pending[key] = kind
    cases: dict[str, Report] = {}
    for name, fields in variants.items():
        report = file_report(worker, city, catalog.roof_tree)
        Report.objects.filter(pk=report.pk).update(**fields)
        if name in pending:
            TimeRequest.objects.create(
                report=report, kind=pending[name], reason="材料未到", requested_by=worker,
                status=RequestStatus.PENDING,
                suspend_until=now + timedelta(days=7)
                if pending[name] == RequestKind.SUSPENSION else None,
            )
        cases[name] = Report.objects.select_related("grid", "standard").get(pk=report.pk)
    return cases


def _calls(
    city: City, catalog: Catalog, street_department: Department, target: Report, asker: User
) -> dict[str, Call]:
    """Every action, called with arguments the function accepts."""
    until = timezone.now() + timedelta(days=7)

    def dispatch(r: Report, u: User | None) -> Any:
        department = city.department if r.state == State.TRANSFERRED else street_department
        return workflow.report_dispatch(r, actor=u, department=department)

    def decide(r: Report, u: User | None) -> Any:
        # The pending request, if the department made one; else one decided already
        # (nothing to decide on).
        request = TimeRequest.objects.filter(report=r, status=RequestStatus.PENDING).first()
        if request is None:
            request = TimeRequest.objects.create(
                report=r, kind=RequestKind.EXTENSION, reason="材料未到", requested_by=asker,
                status=RequestStatus.REFUSED,
            )
        return workflow.report_decide_request(r, actor=u, request=request, grant=True)  # type: ignore[arg-type]

    return {
        "accept": lambda r, u: workflow.report_accept(r, actor=u),
        "reject": lambda r, u: workflow.report_reject(r, actor=u, reason="不属于受理范围"),  # type: ignore[arg-type]
        "merge": lambda r, u: workflow.report_merge(r, actor=u, into=target),  # type: ignore[arg-type]
        "recategorize": lambda r, u: workflow.report_recategorize(
            r, actor=u, category=catalog.garbage  # type: ignore[arg-type]
        ),
        "dispatch": dispatch,
        "transfer_up": lambda r, u: workflow.report_transfer_up(r, actor=u),
        "send_down": lambda r, u: workflow.report_send_down(r, actor=u, reason="街道可办"),  # type: ignore[arg-type]
        "acknowledge": lambda r, u: workflow.report_acknowledge(r, actor=u),  # type: ignore[arg-type]
        "return": lambda r, u: workflow.report_return(r, actor=u, reason="非本部门职责"),  # type: ignore[arg-type]
        "handle": lambda r, u: workflow.report_handle(
            r, actor=u, note="已清理", photos=[jpeg()]  # type: ignore[arg-type]
        ),
        "request_extension": lambda r, u: workflow.report_request_extension(
            r, actor=u, reason="材料未到"  # type: ignore[arg-type]
        ),
        "request_suspension": lambda r, u: workflow.report_request_suspension(
            r, actor=u, reason="等待拆迁", until=until  # type: ignore[arg-type]
        ),
        "decide_request": decide,
        "verify": lambda r, u: workflow.report_verify(r, actor=u, passed=True),  # type: ignore[arg-type]
        "close": lambda r, u: workflow.report_close(r, actor=u),  # type: ignore[arg-type]
        "urge": lambda r, u: workflow.report_urge(r, actor=u, note="请尽快办理"),  # type: ignore[arg-type]
        "resume": lambda r, u: workflow.report_resume(r, actor=u),
        "mark_overdue": lambda r, u: workflow.report_mark_overdue(r, actor=u),
    }


Call = Callable[[Report, User | None], Any]


def _accepted(call: Call, report: Report, user: User | None) -> bool:
    try:
        with transaction.atomic():
            call(report, user)
            raise _Rollback
    except _Rollback:
        return True
    except (PermissionDenied, WorkflowError):
        return False


_FORM = re.compile(r'<form method="post" action="[^"]+" (?:enctype="[^"]+" )?data-action="(\w+)"')


def _on_page(client: Client | None, report: Report) -> frozenset[str]:
    """The transitions whose forms the rendered case page offers (none when out of scope)."""
    if client is None:
        return frozenset()
    response = client.get(reverse("reports:detail", args=[report.pk]))
    if response.status_code == 404:
        return frozenset()
    assert response.status_code == 200
    return frozenset(ACTIONS[name].transition for name in _FORM.findall(response.text))


def test_it_offers_exactly_the_actions_the_workflow_accepts(
    city: City,
    catalog: Catalog,
    worker: User,
    neighbour_worker: User,
    street_staff: User,
    other_street_staff: User,
    district_staff: User,
    handler: User,
    street_department: Department,
    street_handler: User,
    leader: User,
    outsider: User,
    admin_user: User,
) -> None:
    grid_head = UserFactory(username="gridhead", full_name="网格长")
    assign(grid_head, Role.GRID_HEAD, region=city.community)
    other_handler = UserFactory(username="otherdept", full_name="和平区处置员")
    assign(other_handler, Role.HANDLER, department=city.other_department)
    personas: dict[str, User | None] = {
        "worker": worker,
        "neighbour_worker": neighbour_worker,
        "grid_head": grid_head,
        "street_staff": street_staff,
        "other_street_staff": other_street_staff,
        "district_staff": district_staff,
        "district_handler": handler,
        "street_handler": street_handler,
        "other_department_handler": other_handler,
        "leader": leader,
        "outsider": outsider,
        "superuser": admin_user,
        "system": None,
    }
    cases = _states(worker, city, catalog, street_department)
    target = file_report(worker, city, catalog.roof_tree)
    calls = _calls(city, catalog, street_department, target, street_handler)
    assert set(calls) == set(workflow.TRANSITIONS)

    clients: dict[str, Client | None] = {}
    for persona, user in personas.items():
        clients[persona] = None if user is None else Client()
        if user is not None:
            clients[persona].force_login(user)  # type: ignore[union-attr]

    mismatches: list[str] = []
    offered_somewhere: set[str] = set()
    shown_somewhere: set[str] = set()
    for state_name, report in cases.items():
        for persona, user in personas.items():
            offered = workflow.allowed_actions(user, report)
            shown = _on_page(clients[persona], report)
            offered_somewhere |= offered
            shown_somewhere |= shown
            for action, call in calls.items():
                accepted = _accepted(call, report, user)
                if (action in offered) != accepted:
                    mismatches.append(
                        f"{persona} × {state_name} × {action}: "
                        f"offered={action in offered} accepted={accepted}"
                    )
                if user is not None and (action in shown) != accepted:
                    mismatches.append(
                        f"{persona} × {state_name} × {action}: "
                        f"on the page={action in shown} accepted={accepted}"
                    )

    assert mismatches == []
    # The walk is not vacuous: every action is offered to someone somewhere, and every
    # action people take has its form on some page.
    assert offered_somewhere == set(workflow.TRANSITIONS)
    assert shown_somewhere == {a.transition for a in ACTIONS.values()}
