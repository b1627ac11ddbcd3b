"""``manage.py import_regions FILE``: load a region hierarchy from GeoJSON (all or nothing)."""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from grids.importer import RegionImportError, import_regions, parse_geojson_bytes


class Command(BaseCommand):
    help = "从 GeoJSON 文件导入区划层级（市/区/街道/社区/网格）；文件有误则不做任何修改"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", help="GeoJSON FeatureCollection 文件；“-” 表示标准输入")
        parser.add_argument(
            "--dry-run", action="store_true", help="只检查并统计，不写入数据库"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: str = options["file"]
        try:
            if path == "-":
                raw = sys.stdin.buffer.read()
            else:
                with open(path, "rb") as f:
                    raw = f.read()
        except OSError as e:
            raise CommandError(
                _("无法读取文件 %(path)s：%(error)s") % {"path": path, "error": e}
            ) from e
        try:
            result = import_regions(parse_geojson_bytes(raw), dry_run=options["dry_run"])
        except RegionImportError as e:
            raise CommandError(
                _("导入失败，未做任何修改（共 %(n)d 个错误）：") % {"n": len(e.errors)}
                + "\n"
                + "\n".join(e.errors)
            ) from e
        for warning in result.warnings:
            self.stderr.write(self.style.WARNING(_("警告：%(w)s") % {"w": warning}))
        summary = _("新建 %(created)d，更新 %(updated)d，未变 %(unchanged)d") % {
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
        }
        if options["dry_run"]:
            summary = _("预检通过（未写入）：") + summary
        self.stdout.write(self.style.SUCCESS(summary))
