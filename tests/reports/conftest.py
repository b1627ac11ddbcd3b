"""Case fixtures: a small catalogue, a street-level department, and filing helpers."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.models import User
from grids.models import Department, Role
from reports import services
from reports.models import Category, FilingStandard, Report
from tests.conftest import City
from tests.factories import DepartmentFactory, UserFactory, assign


@dataclass
class Catalog:
    housing: Category
    roof_tree: Category
    roof_tree_standard: FilingStandard
    cityscape: Category
    garbage: Category
    garbage_standard: FilingStandard
    manhole: Category
    manhole_missing: FilingStandard
    manhole_cracked: FilingStandard


@pytest.fixture
def catalog(db: None) -> Catalog:
    housing = Category.objects.create(code="05", name="房屋安全", kind="component")
    roof_tree = Category.objects.create(
        code="0501", name="楼顶杂树", kind="component", parent=housing
    )
    roof_std = FilingStandard.objects.create(
        category=roof_tree,
        code="0501-1",
        condition="楼顶生长杂树，根系可能破坏防水层",
        limit_amount=Decimal(3),
        limit_unit="working_days",
        closing_condition="清除杂树及根系",
    )
    cityscape = Category.objects.create(code="01", name="市容环境", kind="event")
    garbage = Category.objects.create(code="0101", name="暴露垃圾", kind="event", parent=cityscape)
    garbage_std = FilingStandard.objects.create(
        category=garbage,
        code="0101-1",
        condition="垃圾暴露堆放",
        limit_amount=Decimal(2),
        limit_unit="working_hours",
        closing_condition="清理干净",
    )
    utilities = Category.objects.create(code="02", name="公用设施", kind="component")
    manhole = Category.objects.create(code="0201", name="井盖", kind="component", parent=utilities)
    missing = FilingStandard.objects.create(
        category=manhole,
        code="0201-1",
        condition="井盖缺失",
        limit_amount=Decimal(2),
        limit_unit="urgent_hours",
        closing_condition="恢复井盖",
        is_urgent=True,
    )
    cracked = FilingStandard.objects.create(
        category=manhole,
        code="0201-2",
        condition="井盖破损",
        limit_amount=Decimal(2),
        limit_unit="working_days",
        closing_condition="更换井盖",
        sort=1,
    )
    return Catalog(
        housing, roof_tree, roof_std, cityscape, garbage, garbage_std, manhole, missing, cracked
    )


@pytest.fixture
def street_department(city: City) -> Department:
    return DepartmentFactory(name="万兴街道综合执法大队", region=city.street)


@pytest.fixture
def street_handler(street_department: Department) -> User:
    u = UserFactory(username="zhifa", full_name="综合执法队员")
    assign(u, Role.HANDLER, department=street_department)
    return u


def jpeg(name: str = "photo.jpg", size: tuple[int, int] = (64, 48)) -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", size, (120, 160, 90)).save(buf, "JPEG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")


def file_report(reporter: User, city: City, category: Category, **kwargs: object) -> Report:
    """File through the service, at the centre of 第六网格 unless told otherwise."""
    params: dict[str, object] = {
        "reporter": reporter,
        "category": category,
        "description": "楼顶有一棵小树",
        "idempotency_key": uuid.uuid4().hex,
        "lng": 117.175,
        "lat": 39.105,
    }
    params.update(kwargs)
    return services.report_file(**params)  # type: ignore[arg-type]
