"""Write the demo city's case history once (casegen/demo.py); called by ``load_demo``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from casegen.demo import demo_history_load


class Command(BaseCommand):
    help = "生成演示案件历史（最近 90 天，可重复执行）/ Write the demo case history (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        made = demo_history_load()
        self.stdout.write(_("案件历史：新建 %(n)s 件") % {"n": made})
