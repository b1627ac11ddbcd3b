"""Load the demo catalogue and routing rules from seeds/ (idempotent).

``seeds/categories.xlsx`` (made by seeds/make_categories.py) and ``seeds/rules.csv``.
Run after ``load_demo``: the rules refer to its regions and departments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from reports.catalog import TableImportError, import_catalog, import_rules

SEEDS = Path(settings.BASE_DIR) / "seeds"


class Command(BaseCommand):
    help = "加载演示案件类别、立案条件和分拨规则（可重复执行）。"

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            catalog = import_catalog((SEEDS / "categories.xlsx").read_bytes(), fmt="xlsx")
            rules = import_rules((SEEDS / "rules.csv").read_bytes(), fmt="csv")
        except TableImportError as e:
            raise CommandError("\n".join(e.errors)) from e
        self.stdout.write(
            _("类别与立案条件：%(c)s；分拨规则：%(r)s")
            % {"c": catalog.summary(), "r": rules.summary()}
        )
        for warning in rules.warnings:
            self.stderr.write(warning)
