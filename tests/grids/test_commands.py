from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from grids.models import Region
from tests.conftest import City
from tests.factories import square

BOW_TIE = {
    "type": "Polygon",
    "coordinates": [
        [[117.3, 39.3], [117.31, 39.31], [117.31, 39.3], [117.3, 39.31], [117.3, 39.3]]
    ],
}


def feature(code: str, name: str, level: str, parent: str | None,
            geometry: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"code": code, "name": name, "level": level, "parent_code": parent},
        "geometry": geometry,
    }


def write(path: Path, *features: dict[str, Any]) -> str:
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": list(features)}, ensure_ascii=False),
        encoding="utf-8",
    )
    return str(path)


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_imports_a_file_and_reports_counts_and_warnings(city: City, tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.geojson",
        feature("T120104001002", "新社区", "community", "T120104001"),
        feature("T120104001002001", "蝴蝶网格", "grid", "T120104001002", BOW_TIE),
    )

    out, err = run("import_regions", path)

    assert "新建 2，更新 0，未变 0" in out
    assert "T120104001002001：边界无效" in err
    assert Region.objects.get(code="T120104001002001").parent.code == "T120104001002"


def test_it_exits_with_every_error_and_changes_nothing(city: City, tmp_path: Path) -> None:
    count = Region.objects.count()
    path = write(
        tmp_path / "bad.geojson",
        feature("T120104001002", "好社区", "community", "T120104001"),
        feature("T120104001003001", "越级网格", "grid", "T120104001", square(117.3, 39.3)),
        feature("T120199", "孤区", "district", "T999999"),
    )

    with pytest.raises(CommandError) as e:
        run("import_regions", path)

    message = str(e.value)
    assert "共 2 个错误" in message
    assert "T120104001003001：网格不能位于街道之下" in message
    assert "T120199：上级代码 T999999 不存在" in message
    assert Region.objects.count() == count


def test_it_exits_non_zero_on_a_file_that_is_not_json(db: None, tmp_path: Path) -> None:
    path = tmp_path / "x.geojson"
    path.write_bytes(b"\x00\x01 not json")

    with pytest.raises(CommandError, match="不是有效的 JSON"):
        run("import_regions", str(path))


def test_it_does_not_write_on_a_dry_run(city: City, tmp_path: Path) -> None:
    path = write(tmp_path / "r.geojson", feature("T120106", "新区", "district", "T120000"))

    out, _err = run("import_regions", path, "--dry-run")

    assert "预检通过" in out and "新建 1" in out
    assert not Region.objects.filter(code="T120106").exists()


def test_it_exports_to_standard_output_in_import_format(city: City) -> None:
    out, _err = run("export_regions")

    data = json.loads(out)
    assert data["type"] == "FeatureCollection"
    assert len(data["features"]) == Region.objects.count()
    assert data["features"][0]["properties"]["code"] == "T120000"


def test_it_exports_only_the_subtree_of_root(city: City) -> None:
    out, _err = run("export_regions", "--root", "T120101001")

    codes = [f["properties"]["code"] for f in json.loads(out)["features"]]
    assert codes == ["T120101001", "T120101001001", "T120101001001001"]


def test_it_refuses_an_unknown_root(city: City) -> None:
    with pytest.raises(CommandError, match="区划代码 NOPE 不存在"):
        run("export_regions", "--root", "NOPE")


def test_it_reimports_its_own_export_as_a_no_op(city: City, tmp_path: Path) -> None:
    path = tmp_path / "all.geojson"
    run("export_regions", "-o", str(path))

    out, _err = run("import_regions", str(path))

    assert f"新建 0，更新 0，未变 {Region.objects.count()}" in out
    out2, _err = run("export_regions")
    assert out2 == path.read_text(encoding="utf-8")
