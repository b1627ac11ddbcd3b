"""``manage.py export_regions [--root CODE] [-o FILE]``: the hierarchy as GeoJSON."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from grids.importer import dumps_feature_collection, export_regions
from grids.models import Region


class Command(BaseCommand):
    help = "把区划层级导出为 GeoJSON（与 import_regions 的格式相同），默认写到标准输出"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--root", metavar="CODE", help="只导出该区划及其下级")
        parser.add_argument("-o", "--output", metavar="FILE", help="输出文件（默认标准输出）")

    def handle(self, *args: Any, **options: Any) -> None:
        root = None
        if options["root"]:
            root = Region.objects.filter(code=options["root"]).first()
            if root is None:
                raise CommandError(_("区划代码 %(code)s 不存在") % {"code": options["root"]})
        text = dumps_feature_collection(export_regions(root))
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as f:
                f.write(text)
        else:
            self.stdout.write(text, ending="")
