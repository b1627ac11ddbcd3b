"""Celery tasks of the evaluation app: thin, idempotent, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from evaluation.services import rollups_catch_up


@shared_task(name="evaluation.tasks.catch_up_rollups", ignore_result=True)
def catch_up_rollups() -> int:
    """Fold the case events committed since the last run into the daily rollups."""
    return rollups_catch_up()
