"""Deterministic demo residents: 宝翠花都社区 gets about 2,000 households with plausible
members, tags and visit history; 天大北五村社区 (the story's: 张鑫's 第六网格, 赵刚's
community) a few households behind every entrance of every grid; other demo communities a
few. Seeded, so every run makes the same people; idempotent, so a second run adds nothing.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from grids.models import Entrance, Level, Region
from residents import crypto
from residents.defaults import defaults_ensure
from residents.identity import check_digit
from residents.models import Household, Person, Relation, Tag, Visit, VisitKind
from residents.registers import RowPlan, rows_write

BAOCUI = "120113004013"
# The source story's community: every building of every grid has households, so the grid
# worker's and grid head's pages show people (floors × doors per entrance).
TIANDA = "120104005035"
TIANDA_PER_ENTRANCE = (3, 2)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马胡朱郭何罗高林郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向常汤康易乔赖文"  # noqa: E501
GIVEN_M = ["建国", "志强", "国庆", "卫东", "文斌", "海涛", "永刚", "德明", "立新", "宏伟", "俊杰",
           "子轩", "浩然", "宇航", "振华", "明辉", "家豪", "学军", "长青", "树林"]
GIVEN_F = ["秀兰", "桂英", "玉梅", "淑珍", "丽华", "春燕", "海燕", "晓红", "美玲", "雅琴", "欣怡",
           "梓涵", "诗雨", "雨桐", "佳慧", "文静", "秀云", "凤英", "丽娟", "翠花"]
SITUATIONS = ["身体状况稳定，生活能自理", "血压偏高，已提醒按时服药", "家中整洁，情绪良好",
              "子女每周回来探望", "反映楼道灯不亮", "询问高龄补贴办理", "行动不便，需要助餐服务",
              "电话沟通，近况良好"]


class _People:
    def __init__(self, rnd: random.Random, region: str) -> None:
        self.rnd = rnd
        self.region = region
        self.seen: set[str] = set()

    def id_number(self, born: date, male: bool) -> str:
        while True:
            seq = self.rnd.randrange(0, 500) * 2 + (1 if male else 0)
            first = f"{self.region}{born:%Y%m%d}{seq:03d}"
            number = first + check_digit(first)
            if number not in self.seen:
                self.seen.add(number)
                return number

    def name(self, male: bool, surname: str | None = None) -> str:
        return (surname or self.rnd.choice(SURNAMES)) + self.rnd.choice(
            GIVEN_M if male else GIVEN_F
        )

    def phone(self) -> str:
        return self.rnd.choice(["138", "139", "135", "186", "151", "177"]) + \
            f"{self.rnd.randrange(10**8):08d}"


def _born(rnd: random.Random, today: date, age_low: int, age_high: int) -> date:
    return today - timedelta(days=rnd.randint(age_low * 365, age_high * 365 + 364))


def _household_rows(
    rnd: random.Random, ppl: _People, entrance: Entrance, floor: int, door: str, today: date,
    tags: dict[str, Tag],
) -> list[RowPlan]:
    """One household: an elderly couple, someone living alone, or a family."""
    kind = rnd.random()
    surname = rnd.choice(SURNAMES)
    members: list[tuple[str, bool, date, list[tuple[Tag, int | None]]]] = []
    if kind < 0.22:  # elderly living alone
        male = rnd.random() < 0.35
        members.append((Relation.HEAD, male, _born(rnd, today, 65, 93), [(tags["alone"], None)]))
    elif kind < 0.45:  # empty-nest couple
        born = _born(rnd, today, 60, 90)
        members.append((Relation.HEAD, True, born, [(tags["empty_nest"], None)]))
        members.append((Relation.SPOUSE, False, born + timedelta(days=rnd.randint(200, 1500)),
                        [(tags["empty_nest"], None)]))
    else:  # a family: parents, children, sometimes a grandparent
        born = _born(rnd, today, 30, 55)
        members.append((Relation.HEAD, True, born, []))
        members.append((Relation.SPOUSE, False, born + timedelta(days=rnd.randint(0, 900)), []))
        for _ in range(rnd.choice([0, 1, 1, 2])):
            child = _born(rnd, today, 2, 25)
            child_tags = [(tags["left_behind"], None)] if rnd.random() < 0.03 and \
                (today - child).days < 16 * 365 else []
            members.append((Relation.CHILD, rnd.random() < 0.5, child, child_tags))
        if rnd.random() < 0.2:
            members.append((Relation.PARENT, rnd.random() < 0.4, _born(rnd, today, 70, 95), []))
    rows = []
    for i, (relation, male, born, person_tags) in enumerate(members):
        person_tags = list(person_tags)
        adult = (today - born).days >= 18 * 365
        for code, p in (("party", 0.10), ("veteran", 0.04), ("disabled", 0.04),
                        ("dibao", 0.03), ("hardship", 0.03), ("key_person", 0.008),
                        ("tekun", 0.004)):
            if adult and rnd.random() < p:
                person_tags.append((tags[code], rnd.randint(1, 4) if code == "disabled" else None))
        number = ppl.id_number(born, male)
        rows.append(RowPlan(
            row=0, entrance=entrance, floor=floor, door=door,
            name=ppl.name(male, surname if relation in (Relation.HEAD, Relation.CHILD) else None),
            relation=relation, sex="M" if male else "F", birth_date=born, id_number=number,
            id_hmac=None, phone=ppl.phone() if adult and (i == 0 or rnd.random() < 0.5) else "",
            presence="away" if adult and rnd.random() < 0.05 else "here", tags=person_tags,
            notes="",
        ))
    return rows


def fill_entrances(
    community: Region, entrances: list[Entrance], per_entrance: tuple[int, int] | None,
    limit: int | None, seed: int, today: date,
) -> int:
    """Generate households behind ``entrances`` (floors × doors each, a few vacant)."""
    rnd = random.Random(seed)
    ppl = _People(rnd, community.code[:6])
    tags = {t.code: t for t in Tag.objects.all()}
    plans: list[RowPlan] = []
    households = 0
    for e in entrances:
        floors, doors = per_entrance or (rnd.choice([5, 6]), 2)
        for floor in range(1, floors + 1):
            for d in range(1, doors + 1):
                if limit is not None and households >= limit:
                    break
                if rnd.random() < 0.04:  # vacant flat
                    continue
                plans.extend(_household_rows(rnd, ppl, e, floor, f"{floor}{d:02d}", today, tags))
                households += 1
    _unique_numbers(plans, ppl)
    rows_write(None, plans, today)
    _visits(Household.objects.filter(entrance__in=entrances), rnd, today)
    return households


def _unique_numbers(plans: list[RowPlan], ppl: _People) -> None:
    """Identity numbers are unique across the city: draw again any already registered."""
    pending = plans
    while pending:
        for p in pending:
            p.id_hmac = crypto.blind_index("id", p.id_number)
        taken: set[str] = set()
        keys = [p.id_hmac for p in pending if p.id_hmac]
        for i in range(0, len(keys), 2000):
            taken.update(Person.objects.filter(id_hmac__in=keys[i:i + 2000])
                         .values_list("id_hmac", flat=True))
        pending = [p for p in pending if p.id_hmac in taken]
        for p in pending:
            assert p.birth_date is not None
            p.id_number = ppl.id_number(p.birth_date, p.sex == "M")


def _fill(community: Region, per_entrance: tuple[int, int] | None, limit: int | None,
          seed: int, today: date) -> int:
    entrances = list(
        Entrance.objects.filter(building__grid__parent=community)
        .select_related("building").order_by("building__grid__code", "building__code", "number")
    )
    return fill_entrances(community, entrances, per_entrance, limit, seed, today)


def _fill_grids(community: Region, today: date) -> int:
    """Fill each grid of the community that has no household yet; returns households made."""
    made = 0
    for j, grid in enumerate(community.get_children().order_by("code")):
        if Household.objects.filter(grid=grid).exists():
            continue
        entrances = list(
            Entrance.objects.filter(building__grid=grid)
            .select_related("building").order_by("building__code", "number")
        )
        if entrances:
            with transaction.atomic():
                made += fill_entrances(community, entrances, TIANDA_PER_ENTRANCE, None,
                                       seed=300 + j, today=today)
    return made


def _visits(qs: QuerySet[Household], rnd: random.Random, today: date) -> None:
    """Visit history by care level, some of it late, so the due list looks real."""
    households = list(qs.select_related("care_level").order_by("pk"))
    visits = []
    by_outcome: dict[tuple[date, date], list[int]] = defaultdict(list)
    for h in households:
        every = h.care_level.visit_every_days if h.care_level else 365
        # the last visit: mostly on time, a fifth late by up to half a period more
        lateness = rnd.random()
        late = every + rnd.randint(1, every // 2 + 3)
        back = rnd.randint(0, every - 1) if lateness < 0.8 else late
        last = today - timedelta(days=back)
        count = max(1, min(6, 240 // every))
        for k in range(count):
            day = last - timedelta(days=k * every)
            visits.append(Visit(
                household=h, visited_on=day,
                kind=rnd.choice([VisitKind.HOME, VisitKind.HOME, VisitKind.PHONE,
                                 VisitKind.WECHAT]),
                situation=rnd.choice(SITUATIONS),
            ))
        by_outcome[(last, last + timedelta(days=every))].append(h.pk)
    Visit.objects.bulk_create(visits, batch_size=1000)
    for (last, due), pks in by_outcome.items():
        Household.objects.filter(pk__in=pks).update(last_visit_on=last, next_visit_due=due)


def load_demo_residents(*, today: date | None = None) -> dict[str, int]:
    """Fill the demo communities once; returns households created per community code."""
    today = today or timezone.localdate()
    defaults_ensure()
    made: dict[str, int] = {}
    communities = Region.objects.filter(
        level=Level.COMMUNITY, children__buildings__entrances__isnull=False
    ).distinct()
    for i, community in enumerate(communities.order_by("code")):
        if community.code == TIANDA:
            # Grid by grid, so a database that got the earlier dozen households in its
            # first grid gets the other grids filled too.
            made_here = _fill_grids(community, today)
            if made_here:
                made[community.code] = made_here
            continue
        if Household.objects.filter(grid__parent=community).exists():
            continue
        with transaction.atomic():
            if community.code == BAOCUI:
                made[community.code] = _fill(community, (11, 3), None, seed=2026, today=today)
            else:
                made[community.code] = _fill(community, (3, 2), 12, seed=100 + i, today=today)
    return made
