from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from accounts.models import User
from grids import geo, importer, tree
from grids.importer import (
    RegionImportError,
    dumps_feature_collection,
    export_regions,
    import_regions,
    parse_geojson_bytes,
)
from grids.models import Department, GeoStamp, Level, Region
from grids.selectors import regions_visible_to
from tests.conftest import City
from tests.factories import square

BOW_TIE = {
    "type": "Polygon",
    "coordinates": [
        [[117.3, 39.3], [117.31, 39.31], [117.31, 39.3], [117.3, 39.31], [117.3, 39.3]]
    ],
}


def feature(
    code: str | None, name: str | None, level: str, parent: str | None,
    geometry: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"code": code, "name": name, "level": level, "parent_code": parent},
        "geometry": geometry,
    }


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def small_city() -> list[dict[str, Any]]:
    """A new city X1 with two grids, parents first."""
    return [
        feature("X1", "新城市", "city", None),
        feature("X101", "一区", "district", "X1"),
        feature("X101001", "一街道", "street", "X101"),
        feature("X101001001", "一社区", "community", "X101001"),
        feature("X101001001001", "第一网格", "grid", "X101001001", square(117.5, 39.5)),
        feature("X101001001002", "第二网格", "grid", "X101001001", square(117.51, 39.5)),
    ]


def tree_snapshot() -> dict[str, tuple[str, int, int, int]]:
    """code -> (root code, lft, rght, depth): the nested sets, whatever the tree ids."""
    roots = dict(Region.objects.filter(parent=None).values_list("tree_id", "code"))
    return {
        code: (roots[tree_id], lft, rght, depth)
        for code, tree_id, lft, rght, depth in Region.objects.values_list(
            "code", "tree_id", "lft", "rght", "depth"
        )
    }


def assert_tree_is_what_mptt_rebuild_gives() -> None:
    before = tree_snapshot()
    assert len(set(Region.objects.filter(parent=None).values_list("tree_id", flat=True))) == len(
        {v[0] for v in before.values()}
    )
    Region.objects.rebuild()
    assert tree_snapshot() == before


def test_it_imports_a_new_city_given_children_before_parents(db: None) -> None:
    result = import_regions(collection(*reversed(small_city())))

    assert (result.created, result.updated, result.unchanged) == (6, 0, 0)
    grid = Region.objects.get(code="X101001001002")
    assert [r.code for r in grid.get_ancestors()] == ["X1", "X101", "X101001", "X101001001"]
    assert grid.level == Level.GRID
    assert Region.objects.get(code="X101").get_descendant_count() == 4
    assert_tree_is_what_mptt_rebuild_gives()


def test_it_makes_imported_grids_findable_by_location_at_once(db: None) -> None:
    assert geo.get_index().locate(117.515, 39.505) is None

    import_regions(collection(*small_city()))

    hit = geo.get_index().locate(117.515, 39.505)
    assert hit is not None and hit.code == "X101001001002"


def test_it_imports_a_district_into_an_existing_city(city: City) -> None:
    data = collection(
        feature("T120105001001001", "新网格", "grid", "T120105001001", square(117.3, 39.2)),
        feature("T120105", "河北区", "district", "T120000"),
        feature("T120105001001", "新社区", "community", "T120105001"),
        feature("T120105001", "新街道", "street", "T120105"),
    )

    result = import_regions(data)

    assert result.created == 4
    city.city.refresh_from_db()
    assert city.city.get_descendants().filter(code="T120105001001001").exists()
    assert_tree_is_what_mptt_rebuild_gives()


def test_it_changes_nothing_and_names_the_bad_feature(city: City) -> None:
    before = tree_snapshot()
    data = collection(
        *small_city(),
        feature("X101001009", "越级网格", "grid", "X101001", square(117.6, 39.6)),
    )

    with pytest.raises(RegionImportError) as e:
        import_regions(data)

    assert e.value.errors == ["X101001009：网格不能位于街道之下（上级应为社区）"]
    assert tree_snapshot() == before
    assert not Region.objects.filter(code__startswith="X1").exists()


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (feature("X101", "重复区", "district", "X1"), "X101：代码重复（第 2、7 个要素）"),
        (feature("X109", "孤区", "district", "X9"), "X109：上级代码 X9 不存在"),
        (feature("X109", "某区", "province", "X1"), "X109：未知层级“province”"),
        (feature("X109", "", "district", "X1"), "X109：缺少名称（name）"),
        (feature(None, "无码区", "district", "X1"), "第 7 个要素：缺少代码（code）"),
        (feature("X109", "某区", "district", None), "X109：缺少上级代码（parent_code）"),
        (feature("X109", "某市", "city", "X1"), "X109：市级区划不能有上级代码"),
        (
            feature("X101001001009", "点网格", "grid", "X101001001",
                    {"type": "Point", "coordinates": [117.5, 39.5]}),
            "X101001001009：边界必须是 GeoJSON 的 Polygon 或 MultiPolygon",
        ),
        (feature("X101001001009", "无界网格", "grid", "X101001001"),
         "X101001001009：网格必须有边界（geometry）"),
        (
            feature("X101001001009", "越界网格", "grid", "X101001001", square(39.5, 117.5)),
            "X101001001009：边界坐标超出经纬度范围",
        ),
        (
            feature("X101001001009", "线网格", "grid", "X101001001", {
                "type": "Polygon",
                "coordinates": [[[117.5, 39.5], [117.6, 39.5], [117.7, 39.5], [117.5, 39.5]]],
            }),
            "X101001001009：边界无效且无法修复为多边形",
        ),
        ("not a feature", "第 7 个要素：不是 GeoJSON Feature"),
    ],
)
def test_it_refuses_a_bad_feature_with_a_reason(db: None, bad: Any, message: str) -> None:
    with pytest.raises(RegionImportError) as e:
        import_regions(collection(*small_city(), bad))

    assert len(e.value.errors) == 1
    assert e.value.errors[0].startswith(message)
    assert not Region.objects.exists()


def test_it_names_every_failing_feature_at_once(db: None) -> None:
    data = collection(
        *small_city(),
        feature("X102", "孤区", "district", "X9"),
        feature("X101001001009", "无界网格", "grid", "X101001001"),
        feature("X101009", "越级街道", "street", "X1"),
    )

    with pytest.raises(RegionImportError) as e:
        import_regions(data)

    assert [m.split("：")[0] for m in e.value.errors] == ["X102", "X101001001009", "X101009"]


def test_it_refuses_changing_the_level_of_an_existing_code(city: City) -> None:
    data = collection(feature("T120104001", "万兴街道", "district", "T120000"))

    with pytest.raises(RegionImportError) as e:
        import_regions(data)

    assert e.value.errors == ["T120104001：层级与已有区划不符（已有为街道，文件中为区）"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "文件不是有效的 JSON"),
        ("不是 UTF-8".encode("gbk"), "文件不是 UTF-8 编码的文本"),
    ],
)
def test_it_refuses_what_is_not_utf8_json(raw: bytes, message: str) -> None:
    with pytest.raises(RegionImportError) as e:
        parse_geojson_bytes(raw)

    assert e.value.errors[0].startswith(message)


@pytest.mark.parametrize(
    "data", [[], {"type": "Feature"}, {"type": "FeatureCollection", "features": {}}]
)
def test_it_refuses_what_is_not_a_feature_collection(db: None, data: Any) -> None:
    with pytest.raises(RegionImportError) as e:
        import_regions(data)

    assert "FeatureCollection" in e.value.errors[0]


def test_it_reads_a_utf8_file_with_a_byte_order_mark() -> None:
    raw = "\ufeff" + json.dumps(collection(*small_city()), ensure_ascii=False)

    assert parse_geojson_bytes(raw.encode("utf-8"))["type"] == "FeatureCollection"


def test_it_repairs_a_self_intersecting_ring_and_warns_with_the_code(db: None) -> None:
    data = collection(
        *small_city(), feature("X101001001003", "蝴蝶网格", "grid", "X101001001", BOW_TIE)
    )

    result = import_regions(data)

    assert result.created == 7
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith("X101001001003：边界无效")
    stored = Region.objects.get(code="X101001001003").boundary
    assert stored["type"] == "MultiPolygon"
    assert geo.normalize_boundary(stored).warnings == []


def test_it_changes_nothing_when_the_same_file_is_imported_twice(db: None) -> None:
    data = collection(*small_city())
    import_regions(data)
    stamp = GeoStamp.objects.get(key="grids").version
    stamps = dict(Region.objects.values_list("code", "updated_at"))
    before = tree_snapshot()

    result = import_regions(data)

    assert (result.created, result.updated, result.unchanged) == (0, 0, 6)
    assert dict(Region.objects.values_list("code", "updated_at")) == stamps
    assert tree_snapshot() == before
    assert GeoStamp.objects.get(key="grids").version == stamp


def test_it_updates_names_and_boundaries_of_existing_codes(city: City) -> None:
    data = collection(
        feature("T120104001001006", "第六网格（新）", "grid", "T120104001001",
                square(117.40, 39.40)),
        feature("T120104001001005", "第五网格", "grid", "T120104001001",
                square(117.18, 39.10)),
    )

    result = import_regions(data)

    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    grid = Region.objects.get(code="T120104001001006")
    assert grid.name == "第六网格（新）"
    assert (grid.centroid_lng, grid.centroid_lat) == (117.405, 39.405)
    hit = geo.get_index().locate(117.405, 39.405)
    assert hit is not None and hit.code == "T120104001001006"


def test_it_keeps_an_existing_boundary_when_the_file_has_none(city: City) -> None:
    tree.region_update(city.district, boundary=square(117.1, 39.0, 0.2))
    data = collection(feature("T120104", "南开区", "district", "T120000"))

    result = import_regions(data)

    assert result.unchanged == 1
    assert Region.objects.get(code="T120104").boundary == square(117.1, 39.0, 0.2)


def test_it_moves_a_node_with_its_subtree_when_the_parent_changes(city: City) -> None:
    # 朝阳里社区 moves from 新兴街道 (和平区) to 万兴街道 (南开区), with its grid.
    data = collection(feature("T120101001001", "朝阳里社区", "community", "T120104001"))

    result = import_regions(data)

    assert result.updated == 1
    street = Region.objects.get(code="T120104001")
    moved = set(street.get_descendants().values_list("code", flat=True))
    assert {"T120101001001", "T120101001001001"} <= moved
    assert not Region.objects.get(code="T120101001").get_descendants().exists()
    assert_tree_is_what_mptt_rebuild_gives()


def test_it_moves_a_node_under_a_new_parent_in_another_city(city: City) -> None:
    data = collection(
        *small_city(),
        feature("T120101001001", "朝阳里社区", "community", "X101001"),
    )

    result = import_regions(data)

    assert (result.created, result.updated) == (6, 1)
    grid = Region.objects.get(code="T120101001001001")
    assert [r.code for r in grid.get_ancestors()][:2] == ["X1", "X101"]
    assert_tree_is_what_mptt_rebuild_gives()


def test_it_writes_nothing_on_a_dry_run(db: None) -> None:
    result = import_regions(collection(*small_city()), dry_run=True)

    assert result.created == 6
    assert not Region.objects.exists()


def test_it_refuses_regions_outside_the_given_scope(district_staff: User) -> None:
    within = regions_visible_to(district_staff)  # 南开区
    data = collection(
        feature("T120104001009", "新社区", "community", "T120104001"),
        feature("T120101001009", "越权社区", "community", "T120101001"),
        feature("X1", "新城市", "city", None),
    )

    with pytest.raises(RegionImportError) as e:
        import_regions(data, within=within)

    assert e.value.errors == [
        "T120101001009：T120101001 不在您的管辖范围内",
        "X1：无权新建市级区划",
    ]


def _wipe_regions() -> None:
    Department.objects.all().delete()
    for level in reversed(Level.values):
        Region.objects.filter(level=level).delete()


def test_it_round_trips_export_import_export_identically(city: City) -> None:
    # A node moved through the admin sits out of code order in the nested sets.
    tree.region_move(city.other_community, new_parent=city.street)
    import_regions(collection(*small_city(), feature(
        "X101001001003", "蝴蝶网格", "grid", "X101001001", BOW_TIE)))
    first = dumps_feature_collection(export_regions())
    _wipe_regions()

    import_regions(parse_geojson_bytes(first.encode("utf-8")))

    assert dumps_feature_collection(export_regions()) == first
    assert_tree_is_what_mptt_rebuild_gives()


def test_it_exports_parents_before_children_in_import_format(city: City) -> None:
    features = export_regions()["features"]

    codes = [f["properties"]["code"] for f in features]
    assert codes[0] == "T120000"
    for f in features:
        parent = f["properties"]["parent_code"]
        assert parent is None or codes.index(parent) < codes.index(f["properties"]["code"])
    grid = features[codes.index("T120104001001006")]
    assert grid["properties"] == {
        "code": "T120104001001006", "name": "第六网格", "level": "grid",
        "parent_code": "T120104001001",
    }
    assert grid["geometry"]["type"] == "Polygon"


def test_it_exports_only_the_subtree_of_a_root(city: City) -> None:
    features = export_regions(city.street)["features"]

    assert [f["properties"]["code"] for f in features] == [
        "T120104001", "T120104001001", "T120104001001005", "T120104001001006",
    ]
    assert features[0]["properties"]["parent_code"] == "T120104"


def tangled_ring(vertices: int) -> dict[str, Any]:
    rng = random.Random(1)
    points = [[117.5 + rng.random() * 0.01, 39.5 + rng.random() * 0.01] for _ in range(vertices)]
    return {"type": "Polygon", "coordinates": [[*points, points[0]]]}


def test_it_refuses_a_tangled_ring_quickly_and_names_the_feature(db: None) -> None:
    data = collection(
        *small_city(),
        feature("X101001001003", "乱线网格", "grid", "X101001001", tangled_ring(400)),
    )
    started = time.perf_counter()

    with pytest.raises(RegionImportError) as e:
        import_regions(data)

    assert time.perf_counter() - started < 2.5
    assert e.value.errors == [
        "X101001001003：边界自相交超过 200 处，无法自动修复，请检查坐标顺序后重新绘制"
    ]
    assert not Region.objects.exists()


def test_it_names_the_feature_whose_boundary_has_too_many_vertices(
    db: None, settings: Any
) -> None:
    settings.GRID_BOUNDARY_MAX_VERTICES = 20
    data = collection(
        *small_city(),
        feature("X101001001003", "细网格", "grid", "X101001001", tangled_ring(24)),
    )

    with pytest.raises(RegionImportError) as e:
        import_regions(data)

    assert e.value.errors == [
        "X101001001003：边界有 25 个顶点，超过上限 20 个，请先简化边界"
    ]


def test_it_refuses_a_file_with_too_many_vertices_in_all(db: None, settings: Any) -> None:
    settings.GRID_IMPORT_MAX_VERTICES = 9  # small_city has two squares of 5 positions

    with pytest.raises(RegionImportError) as e:
        import_regions(collection(*small_city()))

    assert e.value.errors == [
        "文件共有 10 个边界顶点，超过上限 9 个，请分批导入或简化边界"
    ]
    assert not Region.objects.exists()


def test_it_refuses_deeply_nested_json_with_a_message() -> None:
    raw = b"[" * 100_000 + b"]" * 100_000

    with pytest.raises(RegionImportError) as e:
        parse_geojson_bytes(raw)

    assert e.value.errors == ["文件嵌套层数过多（超过 32 层），不是区划 GeoJSON 文件"]


def test_it_ignores_brackets_inside_names_when_measuring_depth() -> None:
    city = small_city()
    city[0]["properties"]["name"] = "[" * 100 + '\\"{' * 50

    parsed = parse_geojson_bytes(json.dumps(collection(*city)).encode())

    assert parsed["features"][0]["properties"]["name"].startswith("[[[")


def test_it_refuses_a_file_over_the_size_limit(settings: Any) -> None:
    settings.GRID_IMPORT_MAX_BYTES = 1024 * 1024
    raw = json.dumps(collection(*small_city())).encode() + b" " * (1024 * 1024)

    with pytest.raises(RegionImportError) as e:
        parse_geojson_bytes(raw)

    assert e.value.errors == ["文件过大（上限 1 MB）"]


def spy_on_lock(monkeypatch: pytest.MonkeyPatch, module: Any) -> list[bool]:
    """Record, at every boundary repair, whether ``module``'s tree lock was held."""
    held: list[bool] = []
    seen: list[bool] = []
    real_lock, real_normalize = module.tree_lock, geo.normalize_boundary

    @contextmanager
    def lock() -> Iterator[None]:
        with real_lock():
            held.append(True)
            try:
                yield
            finally:
                held.pop()

    def normalize(raw: Any) -> geo.NormalizedBoundary:
        seen.append(bool(held))
        return real_normalize(raw)

    monkeypatch.setattr(module, "tree_lock", lock)
    monkeypatch.setattr(geo, "normalize_boundary", normalize)
    return seen


def test_it_repairs_every_boundary_before_taking_the_tree_lock(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = spy_on_lock(monkeypatch, importer)
    data = collection(
        *small_city(), feature("X101001001003", "蝴蝶网格", "grid", "X101001001", BOW_TIE)
    )

    result = import_regions(data)

    assert result.created == 7
    assert seen == [False, False, False]


def test_it_takes_no_lock_on_a_dry_run(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_lock() -> None:
        raise AssertionError("a dry run took the tree lock")

    monkeypatch.setattr(importer, "tree_lock", no_lock)

    assert import_regions(collection(*small_city()), dry_run=True).created == 6
