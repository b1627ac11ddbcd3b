"""``manage.py rebuild_rollups``: drop the evaluation rollups and fold every event again."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from evaluation.services import rollups_catch_up, rollups_rebuild
from reports.models import Report


class Command(BaseCommand):
    help = "Rebuild the evaluation rollups from the case events (same numbers as incremental)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--catch-up", action="store_true", help="only fold the events not folded yet"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        if options["catch_up"]:
            events = rollups_catch_up()
        else:
            events = rollups_rebuild()
        seconds = time.perf_counter() - started
        cases = Report.objects.count()
        self.stdout.write(
            f"folded {events} events of {cases} cases in {seconds:.1f} s "
            f"({cases / seconds if seconds else 0:.0f} cases/s)"
        )
