from io import StringIO

from django.core.management import call_command
from django.http import HttpRequest
from django.test import Client

from grids import geo
from grids.models import Assignment, Building, Entrance, Level, Region


def _load() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def test_it_loads_the_source_stories_places_with_real_codes(db: None) -> None:
    _load()
    grid = Region.objects.get(code="120104005035006")
    assert [r.name for r in grid.get_ancestors(include_self=True)] == [
        "天津市", "南开区", "万兴街道", "天大北五村社区", "第六网格"
    ]
    b25 = Building.objects.get(grid=grid, number="25")
    assert b25.entrances.filter(number="3").exists()
    assert Region.objects.filter(level=Level.DISTRICT, parent__code="120000").count() == 16
    assert Region.objects.filter(level=Level.CITY).count() == 2  # 天津市 and 西宁市


def test_it_divides_baocui_huadu_into_7_grids_28_buildings_63_entrances(db: None) -> None:
    _load()
    community = Region.objects.get(name="宝翠花都社区")
    grids = community.get_children()
    assert grids.count() == 7
    assert Building.objects.filter(grid__in=grids).count() == 28
    assert Entrance.objects.filter(building__grid__in=grids).count() == 63


def test_it_is_idempotent(db: None) -> None:
    _load()
    counts = (Region.objects.count(), Building.objects.count(), Assignment.objects.count())
    second = _load()
    assert "新建 0" in second
    assert (Region.objects.count(), Building.objects.count(), Assignment.objects.count()) == counts


def test_it_locates_building_25_in_the_sixth_grid(db: None) -> None:
    _load()
    b25 = Building.objects.get(grid__code="120104005035006", number="25")
    index = geo.get_index()
    hit = index.locate(b25.lng, b25.lat)
    assert hit is not None and hit.code == "120104005035006"
    near = index.nearest_building(hit.id, b25.lng, b25.lat)
    assert near is not None and near.id == b25.pk


def test_it_prints_logins_that_work(db: None, client: Client) -> None:
    out = _load()
    assert "zhangxin" in out and "jzt-demo-2026" in out
    assert client.login(request=HttpRequest(), username="zhangxin", password="jzt-demo-2026")
