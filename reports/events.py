"""Timeline rows. Every change to a case writes exactly one event through ``event_write``."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from reports.models import EventKind, Report, ReportEvent


def event_write(
    *,
    report: Report,
    kind: EventKind | str,
    actor: User | None,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    data: dict[str, Any] | None = None,
) -> ReportEvent:
    """Append one line to the case's timeline; ``actor=None`` means the system."""
    return ReportEvent.objects.create(
        report=report,
        kind=kind,
        actor=actor,
        from_state=from_state,
        to_state=to_state or from_state,
        note=note,
        data=data or {},
    )
