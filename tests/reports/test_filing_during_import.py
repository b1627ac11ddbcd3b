"""A worker files a report while an administrator imports boundaries: the filing wins.

On SQLite the tree lock is the database's write lock, so a boundary repair done under
it (39 s for a tangled 400-vertex ring, before) made every filing fail with "database
is locked". Repairs now happen before the lock is taken.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connections

from accounts.models import User
from grids import geo
from grids.importer import import_regions
from grids.models import Region
from reports.models import Report
from tests.conftest import City
from tests.grids.test_importer import BOW_TIE, collection, feature, small_city
from tests.reports.conftest import Catalog, file_report

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_files_a_report_while_an_import_is_repairing_a_boundary(
    worker: User, city: City, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    repairing, filed = threading.Event(), threading.Event()
    real_normalize = geo.normalize_boundary

    def slow_normalize(raw: Any) -> geo.NormalizedBoundary:
        if raw is BOW_TIE:  # hold the import here until the filing is done
            repairing.set()
            filed.wait(timeout=30)
        return real_normalize(raw)

    monkeypatch.setattr(geo, "normalize_boundary", slow_normalize)
    outcome: list[Any] = []

    def run_import() -> None:
        try:
            data = collection(
                *small_city(),
                feature("X101001001003", "蝴蝶网格", "grid", "X101001001", BOW_TIE),
            )
            outcome.append(import_regions(data))
        except Exception as e:  # reported by the assertion below
            outcome.append(e)
        finally:
            connections.close_all()

    importer_thread = threading.Thread(target=run_import)
    importer_thread.start()
    try:
        assert repairing.wait(timeout=30)
        report = file_report(worker, city, catalog.roof_tree)
    finally:
        filed.set()
        importer_thread.join(timeout=60)

    assert Report.objects.filter(pk=report.pk).exists()
    assert [getattr(r, "created", r) for r in outcome] == [7]
    assert Region.objects.filter(code="X101001001003").exists()
