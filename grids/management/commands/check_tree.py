from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from grids.tree import tree_rebuild_and_check


class Command(BaseCommand):
    help = "重建并检查区划树 / Rebuild the region tree's nested sets and check levels."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = tree_rebuild_and_check()
        if problems:
            raise CommandError("\n".join(problems))
        self.stdout.write(_("区划树完好"))
