"""Background work of the residents app: thin tasks that call services."""

from __future__ import annotations

from celery import shared_task

from residents import registers, services
from residents.models import ImportStatus, RegisterImport


@shared_task(name="residents.tasks.expire_care_overrides")
def expire_care_overrides() -> int:
    return services.care_overrides_expire()


@shared_task(name="residents.tasks.register_import")
def register_import(import_id: int) -> None:
    """Write a confirmed register; a second run of the same import does nothing."""
    job = RegisterImport.objects.filter(pk=import_id, status=ImportStatus.RUNNING).first()
    if job is None:
        return
    registers.import_write(job=job)


@shared_task(name="residents.tasks.refresh_care_levels")
def refresh_care_levels(previous_days: dict[str, int] | None = None) -> int:
    """Households follow an edit of the care levels, rules or tags; safe to run twice."""
    return services.care_households_refresh(
        previous_days={int(k): v for k, v in (previous_days or {}).items()}
    )
