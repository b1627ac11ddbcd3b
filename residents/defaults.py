"""The default care tags, colours (with visit plans) and rules.

Migration 0002 installs a frozen copy of these; ``defaults_ensure`` puts them back on a
database where they are missing (a flushed demo or test database). Existing rows, which
the administrator may have edited, are never changed.
"""

from __future__ import annotations

from django.db import transaction

from residents.models import CareLevel, CareRule, Tag

LEVELS = [
    # rank, name, colour, meaning, visit every N days
    (1, "深红", "#7f0000", "特困、重度残疾独居等：每周走访", 7),
    (2, "红", "#c62828", "独居老人、重点人群：每两周走访", 14),
    (3, "橙", "#ef6c00", "空巢、高龄、低保、留守儿童：每月走访", 30),
    (4, "黄", "#f9a825", "轻度残疾、困难家庭：每两月走访", 60),
    (5, "蓝", "#1565c0", "退役军人：每季度走访", 90),
    (6, "青", "#00897b", "党员户：每半年走访", 180),
    (7, "绿", "#8bc34a", "一般住户：每年走访", 365),
]
TAGS = [
    # code, name, graded, derived
    ("empty_nest", "空巢老人", False, False),
    ("alone", "独居老人", False, False),
    ("aged80", "高龄", False, True),
    ("disabled", "残疾人", True, False),
    ("dibao", "低保", False, False),
    ("tekun", "特困", False, False),
    ("hardship", "困难家庭", False, False),
    ("key_person", "重点人群", False, False),
    ("veteran", "退役军人", False, False),
    ("party", "党员", False, False),
    ("left_behind", "留守儿童", False, False),
]
RULES = [
    # tag, max grade, level rank
    ("tekun", None, 1),
    ("disabled", 1, 1),
    ("alone", None, 2),
    ("key_person", None, 2),
    ("disabled", 2, 2),
    ("empty_nest", None, 3),
    ("aged80", None, 3),
    ("dibao", None, 3),
    ("left_behind", None, 3),
    ("disabled", 4, 4),
    ("hardship", None, 4),
    ("veteran", None, 5),
    ("party", None, 6),
]


def defaults_ensure() -> None:
    with transaction.atomic():
        levels = {}
        for rank, name, color, meaning, every in LEVELS:
            levels[rank], _ = CareLevel.objects.get_or_create(
                rank=rank,
                defaults={"name": name, "color": color, "meaning": meaning,
                          "visit_every_days": every},
            )
        tags = {}
        for sort, (code, name, graded, derived) in enumerate(TAGS):
            tags[code], _ = Tag.objects.get_or_create(
                code=code,
                defaults={"name": name, "graded": graded, "derived": derived, "sort": sort},
            )
        if not CareRule.objects.exists():
            CareRule.objects.bulk_create(
                CareRule(tag=tags[code], max_grade=max_grade, level=levels[rank])
                for code, max_grade, rank in RULES
            )
