"""Registers (台账): preview with every error by row and column, all-or-nothing writes,
10,000 rows, template and export."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import date, timedelta
from typing import Any

import pytest
from django.conf import settings
from openpyxl import Workbook, load_workbook

from accounts.models import User
from residents import crypto, registers
from residents.errors import ResidentError
from residents.models import Household, ImportStatus, Person, PersonTag
from tests.conftest import City
from tests.factories import BuildingFactory, EntranceFactory
from tests.residents.conftest import Place, id_number, make_household, make_person
from tests.xlsx_bombs import xlsx_with_far_cell

HEADER = registers.COLUMNS


def _xlsx(rows: list[list[Any]]) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("台账")
    ws.append(HEADER)
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _row(building: str, unit: str, door: str, name: str, number: str = "",
         relation: str = "户主", tags: str = "") -> list[Any]:
    return [building, unit, "", door, relation, name, "", "", number, "", "在住", tags, ""]


def test_a_bad_sheet_writes_nothing_and_names_every_error_by_row_and_column(
    place: Place, worker: User, city: City
) -> None:
    bad_check = id_number(1)[:17] + ("0" if id_number(1)[17] != "0" else "1")
    data = _xlsx([
        _row("1", "1", "101", "张三", id_number(3)),
        _row("1", "1", "102", "李四", bad_check),
        _row("1", "1", "103", "王五", id_number(3)),
        _row("9", "1", "104", "赵六", id_number(5)),
        _row("1", "1", "105", "", id_number(7)),
    ])
    job, checked = registers.import_preview(user=worker, community=city.community,
                                            filename="台账.xlsx", data=data)
    assert [(e.row, e.column, e.message) for e in checked.errors] == [
        (3, "身份证号", "身份证号校验位错误"),
        (4, "身份证号", "与第 2 行的身份证号重复"),
        (5, "单元", "本社区（您的网格内）没有“9 1”"),
        (6, "姓名", "姓名不能为空"),
    ]
    with pytest.raises(ResidentError):
        registers.import_start(user=worker, job=job)
    assert (Household.objects.count(), Person.objects.count()) == (0, 0)


def test_the_neighbours_entrance_is_unknown_to_a_grid_worker(
    place: Place, worker: User, city: City
) -> None:
    data = _xlsx([_row("2", "1", "101", "张三")])
    _job, checked = registers.import_preview(user=worker, community=city.community,
                                             filename="a.xlsx", data=data)
    assert [(e.row, e.column) for e in checked.errors] == [(2, "单元")]


def test_it_refuses_a_file_that_is_not_xlsx(worker: User, city: City) -> None:
    with pytest.raises(ResidentError) as e:
        registers.import_preview(user=worker, community=city.community, filename="a.xlsx",
                                 data=b"PK\x03\x04 not really a workbook")
    assert e.value.message == "文件不是有效的 Excel（.xlsx）文件"


def test_a_clean_sheet_is_written_with_households_tags_and_care_levels(
    place: Place, worker: User, city: City
) -> None:
    data = _xlsx([
        _row("1号楼", "1单元", "302", "王秀兰", id_number(11, born="19400101"), "户主",
             "空巢老人；残疾人2级"),
        _row("1号楼", "1单元", "302", "李建国", id_number(13, born="19420101"), "配偶"),
        _row("1", "1", "501", "赵敏", "", "户主", "党员"),
    ])
    job, checked = registers.import_preview(user=worker, community=city.community,
                                            filename="a.xlsx", data=data)
    assert checked.errors == []
    job = registers.import_start(user=worker, job=job)
    assert job.status == ImportStatus.DONE
    h302 = Household.objects.get(door="302")
    h501 = Household.objects.get(door="501")
    assert (h302.floor, h302.members.count(), h302.care_level.rank) == (3, 2, 2)
    assert (h501.floor, h501.has_party_member, h501.care_level.rank) == (5, True, 6)
    assert PersonTag.objects.get(tag__code="disabled").grade == 2
    assert bytes(job.payload) == b""  # the uploaded file is not kept


def test_a_clean_10000_row_register_is_imported(
    city: City, worker: User, django_capture_on_commit_callbacks: Any
) -> None:
    building = BuildingFactory(grid=city.grid, number="7", name="7号楼")
    entrances = [EntranceFactory(building=building, number=str(u), name=f"{u}单元")
                 for u in range(1, 5)]
    rows = []
    for n in range(10_000):
        k = n // 2  # two people per household, four entrances, 50 doors a floor
        unit, j = k % 4 + 1, k // 4
        born = (date(1940, 1, 1) + timedelta(days=n)).strftime("%Y%m%d")
        rows.append(_row("7", str(unit), f"{j // 50 + 1}{j % 50 + 1:02d}", f"居民{n}",
                         id_number(n, born=born), "户主" if n % 2 == 0 else "子女"))
    data = _xlsx(rows)
    job, checked = registers.import_preview(user=worker, community=city.community,
                                            filename="big.xlsx", data=data)
    assert checked.errors == [] and checked.total == 10_000
    with django_capture_on_commit_callbacks(execute=True):
        job = registers.import_start(user=worker, job=job)
        assert job.status == ImportStatus.RUNNING  # above the in-request limit: a task
    job.refresh_from_db()
    assert (job.status, Person.objects.count()) == (ImportStatus.DONE, 10_000)
    assert Household.objects.filter(entrance__in=entrances).count() == checked.households


def test_the_export_holds_full_numbers_and_the_template_has_the_columns(
    place: Place, worker: User, city: City
) -> None:
    data = _xlsx([_row("1", "1", "101", "王秀兰", id_number(21), "户主", "独居老人")])
    job, _ = registers.import_preview(user=worker, community=city.community,
                                      filename="a.xlsx", data=data)
    registers.import_start(user=worker, job=job)
    people = Person.objects.select_related("household__entrance__building").prefetch_related(
        "tags__tag"
    )
    sheet = load_workbook(io.BytesIO(registers.export_workbook(people))).active
    assert [c.value for c in sheet[2]][4:12] == [
        "户主", "王秀兰", "男", "1945-03-12", id_number(21), None, "在住", "独居老人"
    ]
    template = load_workbook(io.BytesIO(registers.template_workbook())).active
    assert [c.value for c in template[1]] == HEADER


def test_reimporting_updates_the_same_person(place: Place, worker: User, city: City) -> None:
    for phone in ("13800000001", "13900000002"):
        row = _row("1", "1", "101", "王秀兰", id_number(21))
        row[9] = phone
        job, _ = registers.import_preview(user=worker, community=city.community,
                                          filename="a.xlsx", data=_xlsx([row]))
        registers.import_start(user=worker, job=job)
    person = Person.objects.get()
    assert crypto.decrypt(person.phone_cipher) == "13900000002"




# A child process, so that the reader's failed allocation (it aborted the process before
# the bounded check) fails this test instead of killing the test run.
_READ_SHEET = """
import sys
import django
def kb(field):
    # VmHWM is this process's own peak (ru_maxrss keeps the forking parent's across exec).
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
django.setup()
from residents import registers
from residents.errors import ResidentError
data = sys.stdin.buffer.read()
before = kb("VmRSS")
try:
    registers.read_sheet(data)
except ResidentError as e:
    print(e.message)
print((kb("VmHWM") - before) // 1024)
"""


def test_a_sheet_reaching_xfd1048576_is_refused_before_it_is_read() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _READ_SHEET], input=xlsx_with_far_cell("XFD1048576"),
        capture_output=True, timeout=120, cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
    )
    message, grown_mb = result.stdout.decode().strip().splitlines()[-2:]
    assert result.returncode == 0
    assert message.startswith("表格范围过大（到 XFD1048576）：每个文件最多 20001 行")
    # Refusing it costs next to nothing beyond Django itself (measured: 0 MB more at the
    # peak); reading it unchecked aborted the process, AD1048576 took ~1 GB.
    assert int(grown_mb) < 32


@pytest.mark.parametrize("cell", ["AD1048576", "XFD1048576"])
def test_a_grid_worker_uploading_a_far_cell_gets_the_limit_in_chinese(
    place: Place, worker: User, city: City, cell: str
) -> None:
    with pytest.raises(ResidentError) as e:
        registers.import_preview(user=worker, community=city.community, filename="a.xlsx",
                                 data=xlsx_with_far_cell(cell, declare=False))
    assert "每个文件最多 20001 行" in e.value.message


def test_the_preview_does_not_say_a_number_is_registered_in_another_grid(
    place: Place, worker: User, city: City
) -> None:
    make_person(make_household(place.neighbour_entrance), seq=71)  # 第五网格: not the worker's
    _job, checked = registers.import_preview(
        user=worker, community=city.community, filename="a.xlsx",
        data=_xlsx([_row("1", "1", "101", "张三", id_number(71))]),
    )
    assert [(e.row, e.column, e.message) for e in checked.errors] == [(
        2, "身份证号",
        "该身份证号无法在此登记，请核对号码；如为迁入人员，请联系上级网格中心办理迁入",
    )]
