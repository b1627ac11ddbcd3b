"""The demo: 宝翠花都社区 filled with about 2,000 households; the others with a few; idempotent."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from residents.models import Household, Person, Visit


def test_the_demo_fills_baocui_huadu_once(db: None) -> None:
    call_command("load_demo", "--quiet-logins", stdout=StringIO())
    baocui = Household.objects.filter(grid__parent__code="120113004013")
    levels = set(baocui.values_list("care_level__rank", flat=True))
    grids = set(baocui.values_list("grid__code", flat=True))
    assert 1900 <= baocui.count() <= 2100
    assert (len(grids), levels) == (7, {1, 2, 3, 4, 5, 6, 7})
    assert baocui.filter(has_party_member=True).count() > 100
    assert Household.objects.exclude(grid__parent__code="120113004013").count() > 0
    counts = (Household.objects.count(), Person.objects.count(), Visit.objects.count())
    out = StringIO()
    call_command("load_demo_residents", stdout=out)
    assert out.getvalue().strip() == "居民：新建 0 户（0 个社区）"
    assert (Household.objects.count(), Person.objects.count(), Visit.objects.count()) == counts
