"""Generate the demo residents (deterministic, idempotent); called by ``load_demo``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from residents.demo import load_demo_residents


class Command(BaseCommand):
    help = "生成演示居民数据（可重复执行）/ Generate demo residents (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        made = load_demo_residents()
        self.stdout.write(
            _("居民：新建 %(h)s 户（%(c)s 个社区）") % {"h": sum(made.values()), "c": len(made)}
        )
